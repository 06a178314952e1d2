"""CLI: ``latentstudio perceive --target CLASS -o OUT.png`` - Perception Engines."""

from __future__ import annotations

import math
import time
from pathlib import Path

import typer

from latentstudio.cli._common import out_path, print_json, progress, seed_option


def _split(names: str) -> list[str]:
    return [n.strip() for n in names.split(",") if n.strip()]


def progress_text(phase: str, iteration: int, log_reward: float) -> str:
    """The progress bar's text: the search's phase and the ensemble's current reward (product of p(target))."""
    return f"perceiving: {phase} {iteration}, ensemble reward {math.exp(min(log_reward, 0.0)):.3f}"


def register(app: typer.Typer) -> None:
    """Add ``perceive`` to the root app."""

    @app.command("perceive")
    def perceive_cmd(
        target: str = typer.Option(..., "--target", help="ImageNet class name or index, or 'random'."),
        output: Path = typer.Option(..., "-o", "--output", help="Output drawing: .png/.jpg (and an .svg beside "
                                                                "it) or .svg."),
        models: str = typer.Option("efficientnet_lite0,efficientnet_lite1", "--models",
                                   help="Comma-separated ensemble that guides the search."),
        holdout: str = typer.Option("efficientnet_lite2", "--holdout",
                                    help="Comma-separated models that only judge the result ('' for none)."),
        planner: str = typer.Option("hybrid", "--planner", help="es (greedy + evolution strategy), grad "
                                                                "(soft rasteriser) or hybrid."),
        strokes: int = typer.Option(12, "--strokes", help="Number of strokes."),
        budget: float = typer.Option(180.0, "--budget", help="Seconds of wall time (models loaded, search, judges); "
                                                             "the best drawing found is kept when time is up."),
        robust: bool = typer.Option(True, "--robust/--no-robust",
                                    help="Search under print transforms (misregistration, reframing, perspective, lighting)."),
        size: int = typer.Option(1024, "--size", help="Side in px of the printed PNG/JPG."),
        device: str = typer.Option("cpu", "--device", help="cpu, cuda, ..."),
        seed: int = seed_option("--seed", "Random seed."),
        hub_weight: float = typer.Option(None, "--hub-weight",
                                         help="Contrast the target against what any stroke drawing looks like "
                                              "to the ensemble (clocks, matchsticks...): 0 off, 0.5-2 on "
                                              "(default: perception.perceive.DEFAULT_HUB_WEIGHT)."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Draw abstract strokes that an ensemble of classifiers names as TARGET; report what held-out
        classifiers see.

        The search takes --budget seconds (180 by default, measured on 2 cores; the iteration counts scale
        to the time). Example: latentstudio perceive --target goldfish -o goldfish.png --budget 120 --json
        """
        from latentstudio.perception import perceive
        from latentstudio.perception.perceive import DEFAULT_HUB_WEIGHT, OUT_SUFFIXES, check_print_size

        hub_weight = DEFAULT_HUB_WEIGHT if hub_weight is None else hub_weight

        out = out_path(output, suffixes=OUT_SUFFIXES)
        check_print_size(size)
        ens, held = _split(models), _split(holdout)
        with progress("perceiving") as advance:
            t0 = time.perf_counter()
            shown = [0]

            def note(phase: str, it: int, value: float) -> None:
                done = min(int(time.perf_counter() - t0), max(1, round(budget)))
                advance(done - shown[0], total=max(1, round(budget)),
                        description=progress_text(phase, it, value))
                shown[0] = done
            res = perceive(target, models=ens, holdout=held, planner=planner, n_strokes=strokes, budget=budget,
                           robust=robust, seed=seed, device=device, hub_weight=hub_weight, callback=note)
        params = dict(target=target, models=ens, holdout=held, planner=planner, strokes=strokes, budget=budget,
                      robust=robust, size=size, hub_weight=hub_weight)
        out, svg = res.save(out, size=size, command="perceive", seed=seed, params=params)
        if as_json:
            print_json({**res.to_dict(), "planner": planner, "strokes": strokes, "output": str(out),
                        "svg": str(svg)})
        else:
            for row in res.report:
                typer.echo(f"{row['role']:8s} {row['model']:20s} p={row['prob']:.3f} rank={row['rank']:4d}  "
                           f"top: {row['top5'][0][0]}")
            typer.echo(str(out))
