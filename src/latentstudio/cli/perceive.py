"""CLI: ``latentstudio perceive --target CLASS -o OUT.png`` - Perception Engines."""

from __future__ import annotations

from pathlib import Path

import typer

from latentstudio.cli._common import out_path, print_json, progress

OUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg")


def _split(names: str) -> list[str]:
    return [n.strip() for n in names.split(",") if n.strip()]


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
        budget: str = typer.Option("default", "--budget", help="small, default (about 3 min on 2 cores) or large."),
        robust: bool = typer.Option(True, "--robust/--no-robust",
                                    help="Search under print transforms (misregistration, reframing, perspective, lighting)."),
        size: int = typer.Option(1024, "--size", help="Side in px of the printed PNG/JPG."),
        max_seconds: float = typer.Option(None, "--max-seconds", help="Skip the last refinement after this long."),
        device: str = typer.Option("cpu", "--device", help="cpu, cuda, ..."),
        seed: int = typer.Option(0, "--seed", help="Random seed."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Draw abstract strokes that an ensemble of classifiers names as TARGET; report what held-out
        classifiers see.

        Example: latentstudio perceive --target goldfish -o goldfish.png --planner hybrid --json
        """
        from latentstudio.core.fileio import atomic_write_text
        from latentstudio.core.image import from_tensor, save
        from latentstudio.errors import ParameterError
        from latentstudio.perception import BUDGETS, PLANNERS, perceive, render, to_svg
        from latentstudio.provenance import write_sidecar
        from latentstudio.zoo import class_index, list_classifiers

        out = out_path(output, suffixes=OUT_SUFFIXES)
        if not 16 <= size <= 16384:
            raise ParameterError(f"--size {size} must be between 16 and 16384 px")
        ens = _split(models)
        if not ens:
            raise ParameterError(f"--models {models!r} names no model")
        held = _split(holdout)
        if max_seconds is not None and not max_seconds > 0:
            raise ParameterError(f"--max-seconds {max_seconds} must be a positive number of seconds")
        if planner not in PLANNERS:
            raise ParameterError(f"--planner {planner!r} must be one of {', '.join(PLANNERS)}")
        if budget not in BUDGETS:
            raise ParameterError(f"--budget {budget!r} must be one of {', '.join(BUDGETS)}")
        if target.strip().lower() != "random":
            class_index(target)
        known = list_classifiers()
        for name in ens + held:
            if name not in known:
                raise ParameterError(f"model {name!r} is not a known classifier; valid: {', '.join(known)}")
        with progress("perceiving") as advance:
            res = perceive(target, models=ens, holdout=held, planner=planner, n_strokes=strokes, budget=budget,
                           robust=robust, seed=seed, device=device, max_seconds=max_seconds,
                           callback=lambda phase, it, value: advance(description=f"perceiving: {phase} "
                                                                                 f"{it} log-reward {value:.2f}"))
        svg_path = out if out.suffix.lower() == ".svg" else out.with_suffix(".svg")
        atomic_write_text(svg_path, to_svg(res.drawing, size=size))
        if out.suffix.lower() != ".svg":
            save(out, from_tensor(render(res.drawing, size=size)))
        report = {"target": res.label, "target_index": res.target, "reward": res.reward, "planner": planner,
                  "strokes": strokes, "seconds": round(res.seconds, 1), "output": str(out), "svg": str(svg_path),
                  "models": res.report, "drawing": [round(float(v), 5) for v in res.drawing]}
        params = dict(target=target, models=ens, holdout=held, planner=planner, strokes=strokes, budget=budget,
                      robust=robust, size=size, max_seconds=max_seconds)
        write_sidecar(out, command="perceive", seed=seed, models=ens + held, params=params, result=report)
        if as_json:
            print_json(report)
        else:
            for row in res.report:
                typer.echo(f"{row['role']:8s} {row['model']:20s} p={row['prob']:.3f} rank={row['rank']:4d}  "
                           f"top: {row['top5'][0][0]}")
            typer.echo(str(out))
