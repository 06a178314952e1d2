"""``latentstudio demo``: run every system on offline assets and write a gallery page.

Each system contributes a section module ``latentstudio.cli.demo_<system>`` with
``section(outdir: Path, *, seed: int) -> DemoSection``. Artefacts go under ``outdir/<system>/``,
and the section's HTML refers to them by relative path.
"""

from __future__ import annotations

import html
import importlib
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import typer

from latentstudio import __version__
from latentstudio.cli._common import seed_option
from latentstudio.core.fileio import atomic_write_text


@dataclass
class DemoSection:
    """One block of the gallery."""

    title: str
    html: str
    seconds: float = 0.0


#: Section modules in gallery order; each is ``latentstudio.cli.demo_<name>``.
SECTIONS: list[str] = ["classify", "dj", "dream", "perceive", "soundscape", "beatbox", "latent", "funk", "gan",
                      "seeing"]

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;background:#111;color:#eee}
a{color:#9cf} h1{font-weight:300} h2{border-bottom:1px solid #444;padding-bottom:.2em;margin-top:2em}
figure{display:inline-block;margin:.5em;vertical-align:top;max-width:340px}
figure img,figure video{max-width:320px;border-radius:4px} figcaption{font-size:.85em;color:#bbb}
table{border-collapse:collapse} td,th{padding:.2em .6em;border-bottom:1px solid #333;text-align:left}
.err{color:#f88;white-space:pre-wrap} .t{color:#888;font-size:.8em}
"""


def render_page(sections: list[DemoSection]) -> str:
    """The gallery page's HTML."""
    body = "\n".join(
        f'<section><h2>{html.escape(s.title)}</h2>{s.html}<p class="t">{s.seconds:.1f} s</p></section>'
        for s in sections)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>latentstudio demo</title>"
            f"<style>{_STYLE}</style></head><body><h1>latentstudio {__version__} — demo gallery</h1>"
            f"<p>Every artefact below was made on this machine, offline, by <code>make demo</code>. "
            f"Each file has a provenance sidecar (<code>NAME.json</code>).</p>{body}</body></html>\n")


def run_demo(outdir: Path, *, seed: int = 0, only: list[str] | None = None) -> tuple[Path, list[str]]:
    """Run the demo sections and write ``outdir/index.html``; returns (page, failed section names)."""
    from latentstudio.errors import ParameterError

    unknown = sorted(set(only or []) - set(SECTIONS))
    if unknown:
        raise ParameterError(f"--only {', '.join(unknown)}: not a demo section (one of {', '.join(SECTIONS)})")
    outdir.mkdir(parents=True, exist_ok=True)
    sections: list[DemoSection] = []
    failed: list[str] = []
    for name in SECTIONS:
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        typer.echo(f"demo: {name} ...", err=True)
        try:
            mod = importlib.import_module(f"latentstudio.cli.demo_{name}")
            sec = mod.section(outdir, seed=seed)
        except Exception:  # one broken section must not hide the others
            failed.append(name)
            sec = DemoSection(name, f"<p class='err'>{html.escape(traceback.format_exc())}</p>")
        sec.seconds = time.perf_counter() - t0
        typer.echo(f"demo: {name} done in {sec.seconds:.1f} s", err=True)
        sections.append(sec)
    page = outdir / "index.html"
    atomic_write_text(page, render_page(sections))
    return page, failed


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the root app."""

    @app.command("demo")
    def demo(output: Path = typer.Option(Path("out/demo"), "-o", "--output", help="Gallery folder."),
             seed: int = seed_option("--seed", "Random seed for every section."),
             only: list[str] = typer.Option(None, "--only", help="Run only these sections."),
             as_json: bool = typer.Option(False, "--json", help="Print the page, the sections run and the failed "
                                                                "ones as JSON.")) -> None:
        """Run every system on offline assets and write a gallery page (OUTPUT/index.html).

        Example: latentstudio demo -o out/demo --only beatbox --json
        """
        from latentstudio.cli._common import print_json

        page, failed = run_demo(output, seed=seed, only=only)
        if as_json:
            print_json({"page": str(page), "sections": [n for n in SECTIONS if not only or n in only],
                        "failed": failed})
        else:
            typer.echo(str(page))
        if failed:
            typer.echo(f"error: demo sections failed: {', '.join(failed)} (see {page})", err=True)
            raise typer.Exit(code=1)
