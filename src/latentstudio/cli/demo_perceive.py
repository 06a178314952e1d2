"""Demo section "perceive": Perception Engines draws a class for an ensemble, held-out models judge."""

from __future__ import annotations

import html
from pathlib import Path

from latentstudio.cli.demo import DemoSection

TARGETS = ("goldfish",)
STROKES = 10
#: Seconds of search per target (the command's default is 180).
SECONDS = 30.0


def section(outdir: Path, *, seed: int) -> DemoSection:
    """One low-budget search per target: PNG print, SVG, and the judges' table."""
    from latentstudio.perception import perceive

    folder = outdir / "perceive"
    folder.mkdir(parents=True, exist_ok=True)
    blocks = []
    for target in TARGETS:
        res = perceive(target, planner="hybrid", n_strokes=STROKES, budget=SECONDS, seed=seed)
        stem = target.replace(" ", "_")
        png, _ = res.save(folder / f"{stem}.png", size=480, command="latentstudio demo --only perceive", seed=seed,
                          params={"target": target, "planner": "hybrid", "strokes": STROKES, "budget": SECONDS})
        rows = "".join(
            f"<tr><td>{html.escape(r['model'])}</td><td>{r['role']}</td><td>{r['prob']:.1%}</td><td>{r['rank']}</td>"
            f"<td>{html.escape(', '.join(t[0] for t in r['top5'][:3]))}</td></tr>" for r in res.report)
        blocks.append(f"<figure><img src='perceive/{png.name}' alt='{html.escape(target)}'>"
                      f"<figcaption>target: {html.escape(res.label)} "
                      f"(<a href='perceive/{stem}.svg'>SVG</a>), {res.seconds:.0f} s</figcaption></figure>"
                      f"<table><tr><th>model</th><th>role</th><th>p(target)</th><th>rank</th><th>top-3</th></tr>"
                      f"{rows}</table>")
    body = ("<p>Perception Engines: strokes searched (greedy build-up, gradient planning on a soft rasteriser, "
            "evolution-strategy polish, under print transforms) until EfficientNet-Lite0 and Lite1 name the "
            "target; Lite2 took no part and judges. A 30 s demo budget; "
            "<code>latentstudio perceive --target goldfish -o fish.png</code> searches for 180 s.</p>"
            + "".join(blocks))
    return DemoSection("Perception Engines — abstract drawings that classifiers name", body)
