"""Demo gallery section of the AI DJ: a library the project renders itself, analysed and mixed."""

from __future__ import annotations

import html
import json
from pathlib import Path

from latentstudio.cli.demo import DemoSection


def section(outdir: Path, *, seed: int) -> DemoSection:
    """Render the demo library (FluidSynth GM + Hydrogen kits), analyse it, mix four tracks, check the matching."""
    import mir_eval
    import numpy as np

    from latentstudio.dj.analysis import analyze_library, library_files
    from latentstudio.dj.beatnet import has_beatnet
    from latentstudio.dj.music import write_library
    from latentstudio.dj.pipeline import mix_library

    d = outdir / "dj"
    lib = d / "library"
    truth = write_library(lib, sr=22050)
    analyses, failures = analyze_library(library_files(lib), workers=2)
    by_path = {a["path"]: a for a in analyses}
    rows = []
    for t in truth:
        a = by_path.get(t["path"])
        if a is None:
            continue
        f = mir_eval.beat.f_measure(np.array(t["beats"]), np.array(a["beats"]))
        rows.append(f"<tr><td>{html.escape(Path(t['path']).name)}</td><td>{t['bpm']:.1f}</td><td>{a['bpm']:.2f}</td>"
                    f"<td>{f:.3f}</td><td>{html.escape(t['key'])}</td><td>{html.escape(a['key'])} ({a['camelot']})</td>"
                    f"<td>{a['lufs']:.1f}</td></tr>")
    res = mix_library(analyses, n_tracks=4, start=Path(truth[0]["path"]).name, transition_bars=8, novelty=0.2,
                      sr=22050, seed=seed)
    res.save(d / "mix.flac", command="demo dj", seed=seed, timeline_width=1000)
    plan = res.plan
    trs = []
    for i, tr in enumerate(plan["transitions"]):
        p = plan["checks"]["plan"]["transitions"][i]
        a = plan["checks"]["audio"]["transitions"][i]
        trs.append(f"<tr><td>{html.escape(tr['from'])} &rarr; {html.escape(tr['to'])}</td><td>{tr['start']:.1f} s</td>"
                   f"<td>{tr['bpm_start']:.1f} &rarr; {tr['bpm_end']:.1f}</td><td>{p['max_offset_ms']:.2f} ms</td>"
                   f"<td>{a.get('p90_offset_ms', float('nan')):.1f} ms</td>"
                   f"<td>{100 * a.get('tempo_error', float('nan')):.2f} %</td></tr>")
    picks = "".join(f"<li>{html.escape(t['name'])}: {html.escape(json.dumps(_short(t['reasons'])))}</li>"
                    for t in plan["tracks"])
    body = (f"<p>Six tracks written as MIDI by the project and rendered with FluidSynth's General MIDI instruments "
            f"and Hydrogen drum kits (exact beats known). Beat tracker: "
            f"{'the project-trained network' if has_beatnet() else 'onset flux'} + Viterbi decoding.</p>"
            f"<table><tr><th>track</th><th>true bpm</th><th>found bpm</th><th>beat F</th><th>true key</th>"
            f"<th>found key</th><th>LUFS</th></tr>{''.join(rows)}</table>"
            f"<p><audio controls src='dj/mix.flac'></audio> a {plan['duration']:.0f} s mix of four tracks</p>"
            f"<img src='dj/mix.png' style='max-width:100%'>"
            f"<table><tr><th>transition</th><th>at</th><th>bpm</th><th>grids apart (plan)</th>"
            f"<th>beats apart on audio (90th pct)</th><th>tempo error (audio)</th></tr>{''.join(trs)}</table>"
            f"<p>Why each track:</p><ul style='font-size:.8em'>{picks}</ul>"
            + (f"<p class='err'>skipped: {html.escape(str(failures))}</p>" if failures else ""))
    return DemoSection("AI DJ — analysis, selection, beat-matched mix", body)


def _short(reasons: dict) -> dict:
    out = {"picked_by": reasons.get("picked_by")}
    if "tempo" in reasons:
        out.update({"bpm": f"{reasons['tempo']['from_bpm']}->{reasons['tempo']['to_bpm']}",
                    "x": reasons["tempo"]["beat_multiplier"], "key": f"{reasons['key']['from']}->{reasons['key']['to']}",
                    "similarity": reasons["similarity"]})
    return out
