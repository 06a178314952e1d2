"""``latentstudio beatbox``: voice sounds become a drum kit in an ever-evolving generated beat."""

from __future__ import annotations

from pathlib import Path

import typer

from latentstudio.beatbox.defaults import ONSET_DILATIONS, ONSET_HALLS, ONSET_PCEN, ONSET_WINDOWS
from latentstudio.cli._common import (count_progress, existing, fit_progress, new_group, parse_dilations, parse_ints,
                                      print_json, progress, seed_option, set_threads)

group = new_group(help="Neural Beatbox: voice sounds become a drum kit in an ever-evolving beat.\n\n"
                       "Example: latentstudio beatbox jam voice.wav -o beat.wav --bars 16")


def _report(run, as_json: bool, lines: list[str]) -> None:
    """Print a training run's summary as JSON, or where it was saved and ``lines`` (under torchrun: rank 0)."""
    from latentstudio.train.distributed import launched_rank

    if launched_rank() != 0:
        return
    if as_json:
        print_json({**run.summary(), "output": str(run.output)})
        return
    typer.echo(f"saved {run.output}")
    for line in lines:
        typer.echo(line)


def _calibration(items: list[str] | None) -> list[tuple[str, str]]:
    """``--calibrate LABEL=FILE`` items as (label, file) pairs."""
    from latentstudio.errors import ParameterError

    pairs = []
    for item in items or []:
        if "=" not in item:
            raise ParameterError(f"--calibrate {item!r} must be LABEL=FILE, e.g. kick=my_kicks.wav")
        label, path = item.split("=", 1)
        pairs.append((label, path))
    return pairs


def _one_thread() -> None:
    # the beatbox's networks are small: one thread is fastest, and does not stall when other work holds
    # the cores (bench/beatbox.py latency: 10 s of voice -> 8 bars in 0.10 s on 1 thread, 1.19 s on 2
    # threads while another process kept a core busy)
    import torch

    torch.set_num_threads(1)


@group.command("segment")
def segment(voice: Path = typer.Argument(..., help="Recording of voice sounds (wav, flac, ogg, mp3 ...)."),
            out_dir: Path = typer.Option(None, "--out-dir", help="Also write each sound as NNN.wav here."),
            min_db: float = typer.Option(-45.0, "--min-db", help="Ignore sounds quieter than this (dBFS)."),
            kind: str = typer.Option("voice", "--kind", help="voice (a consonant and its vowel are one sound) or "
                                                             "drums (onset network: room tails, flams)."),
            as_json: bool = typer.Option(False, "--json", help="Print the sounds as JSON.")) -> None:
    """Cut a recording into its sounds (backtracked onsets; trimmed, normalised segments).

    Example: latentstudio beatbox segment voice.wav --json   (drum loops: --kind drums)
    """
    from latentstudio.beatbox.pipeline import segment_recording
    from latentstudio.cli._common import stderr

    res = segment_recording(voice, min_db=min_db, kind=kind)
    for note in res.notes:
        stderr(f"note: {note}")
    rows = res.rows()
    if out_dir is not None:
        for row, path in zip(rows, res.save(out_dir)):
            row["file"] = str(path)
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['time']:8.3f} - {row['end']:8.3f} s  {row['peak_db']:6.1f} dBFS")


@group.command("classify")
def classify(voice: Path = typer.Argument(..., help="Recording of voice sounds."),
             calibrate: list[str] = typer.Option(None, "--calibrate",
                                                 help="LABEL=FILE: a recording of your own LABEL sounds "
                                                      "(kick, snare, closed_hat ...); repeat per class."),
             model: Path = typer.Option(None, "--model", help="Classifier checkpoint folder (default: shipped)."),
             kind: str = typer.Option("voice", "--kind", help="voice or drums (see `beatbox segment --help`)."),
             as_json: bool = typer.Option(False, "--json", help="Print the hits as JSON.")) -> None:
    """Segment a recording and name the drum each sound is like.

    Example: latentstudio beatbox classify voice.wav --calibrate kick=my_kicks.wav --json
    """
    from latentstudio.beatbox.pipeline import classify_recording
    from latentstudio.cli._common import stderr

    _one_thread()
    res = classify_recording(voice, classifier=model, calibration=_calibration(calibrate), kind=kind)
    for note in res.notes:
        stderr(f"note: {note}")
    rows = res.rows()
    if as_json:
        print_json(rows)
        return
    if res.calibrated:
        typer.echo(f"calibrated with {res.calibrated}")
    for r in rows:
        typer.echo(f"{r['time']:8.3f} - {r['end']:8.3f} s  {r['label']:<11} {r['confidence']:.2f}")


@group.command("train-classifier")
def train_classifier(output: Path = typer.Option(..., "-o", "--output",
                                                 help="Checkpoint folder to write (the shipped model is replaced "
                                                      "only when named here)."),
                     steps: int = typer.Option(1500, "--steps", help="Optimiser steps."),
                     batch_size: int = typer.Option(64, "--batch-size", help="Sounds per step."),
                     augmented: int = typer.Option(6, "--augmented", help="Augmented copies of each sound."),
                     members: int = typer.Option(3, "--members", help="Networks in the ensemble (seeds "
                                                                       "seed*members .. +members-1)."),
                     timbre: bool = typer.Option(True, "--timbre/--no-timbre",
                                                 help="Blend in a regression on hand-made timbre descriptors "
                                                      "(its weight chosen on the validation sources)."),
                     folder: list[Path] = typer.Option(None, "--folder",
                                                       help="Your own drum samples (labels from file or folder "
                                                            "names: kick, snare, hat, clap ...); repeat."),
                     checkpoint_dir: Path = typer.Option(None, "--checkpoint-dir",
                                                         help="Periodic checkpoints here; a rerun resumes."),
                     threads: int = typer.Option(2, "--threads", help="Torch CPU threads."),
                     seed: int = seed_option("--seed", "Random seed (augmentation, batches, init)."),
                     as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Train the drum classifier on the train split of every installed drum source (see
    latentstudio.beatbox.oneshots.SPLITS), judged and temperature-calibrated on the validation split.

    Example: latentstudio beatbox train-classifier -o models/drums --steps 1500 --seed 0 --folder ~/samples/drums
    """
    from latentstudio.beatbox.pipeline import train_drum_classifier

    set_threads(threads)
    with progress("training drum classifier", total=steps * members, quiet=as_json) as advance:
        run = train_drum_classifier(output, steps=steps, batch_size=batch_size, augmented=augmented,
                                    members=members, timbre=timbre, folders=folder or [],
                                    checkpoint_dir=checkpoint_dir, seed=seed, progress=fit_progress(advance))
    r = run.report
    mixes = r.val_accuracy_by_timbre_mix
    _report(run, as_json, [f"trained on {r.train_sounds} sounds from {', '.join(r.train_sources)}",
                           f"validation ({', '.join(r.val_sources)}, {r.val_sounds} sounds): accuracy "
                           f"{r.val_accuracy:.3f}, kick/snare/hat {r.val_kick_snare_hat_accuracy:.3f}; "
                           f"temperature {r.temperature:.2f}"]
            + ([f"timbre head: validation accuracy {mixes.get('0.0', float('nan')):.3f} without it, "
                f"{r.val_accuracy:.3f} with it"] if mixes else []))


@group.command("train-onsets")
def train_onsets(output: Path = typer.Option(..., "-o", "--output",
                                             help="Checkpoint folder to write (the shipped model is replaced "
                                                      "only when named here)."),
                 steps: int = typer.Option(2000, "--steps", help="Optimiser steps."),
                 batch_size: int = typer.Option(12, "--batch-size", help="4-second sequences per step."),
                 checkpoint_dir: Path = typer.Option(None, "--checkpoint-dir",
                                                     help="Periodic checkpoints here; a rerun resumes."),
                 threads: int = typer.Option(2, "--threads", help="Torch CPU threads."),
                 seed: int = seed_option("--seed", "Random seed (sequences, init)."),
                 dilations: str = typer.Option(",".join(map(str, ONSET_DILATIONS)), "--dilations",
                                               help="Dilations of the temporal convolutions (1..16: +-0.31 s of "
                                                    "context; 1..32: +-0.63 s)."),
                 halls: float = typer.Option(ONSET_HALLS, "--halls",
                                             help="Share of the sequences' rooms that are FluidSynth's reverb, "
                                                  "measured with a click (0: none; needs the fluidsynth program)."),
                 windows: str = typer.Option(",".join(map(str, ONSET_WINDOWS)), "--windows",
                                             help="Analysis windows of the log-mel inputs, samples at 16 kHz "
                                                  "(64-1024; e.g. 1024,256 adds a 16 ms window)."),
                 pcen: bool = typer.Option(ONSET_PCEN, "--pcen/--no-pcen",
                                           help="Also read per-channel energy normalised mel magnitudes (each "
                                                "band against its own last 0.4 s: hits over a decaying hall "
                                                "or cymbal stand out)."),
                 as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Train the onset network on drum sequences made from the train split's one-shots (rooms, flams,
    noise), its threshold chosen on sequences of the validation split's sounds.

    Example: latentstudio beatbox train-onsets -o models/onsets --steps 2000 --seed 0
    """
    from latentstudio.beatbox.pipeline import train_onset_network

    set_threads(threads)
    with progress("training onset network", total=steps, quiet=as_json) as advance:
        run = train_onset_network(output, steps=steps, batch_size=batch_size, checkpoint_dir=checkpoint_dir,
                                  seed=seed, dilations=parse_dilations(dilations), halls=halls,
                                  windows=parse_ints(windows, option="--windows", lo=64, hi=1024),
                                  pcen=pcen, progress=fit_progress(advance))
    _report(run, as_json, [f"validation sequences: onset F {run.report.val_f_measure:.3f} at threshold "
                           f"{run.report.threshold:.2f}"])


@group.command("join-onsets")
def join_onsets(members: list[Path] = typer.Argument(..., help="Onset network folders (train-onsets -o ...), two "
                                                                "or more: seeds or recipes."),
                output: Path = typer.Option(..., "-o", "--output",
                                            help="Ensemble folder to write (the shipped model is replaced only "
                                                 "when named here)."),
                threads: int = typer.Option(2, "--threads", help="Torch CPU threads."),
                as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Join trained onset networks into one ensemble: their onset probabilities are averaged and one threshold
    is chosen for the mean on the validation sequences (the shipped detector is three recipes joined).

    Example: latentstudio beatbox join-onsets models/on_a models/on_b models/on_c -o models/onsets
    """
    from latentstudio.beatbox.pipeline import join_onset_networks

    set_threads(threads)
    paths = [existing(m, what="onset network") for m in members]
    with progress("choosing the threshold on validation", quiet=as_json) as advance:
        run = join_onset_networks(output, paths, progress=count_progress(advance))
    _report(run, as_json, [f"validation sequences: onset F {run.report.val_f_measure:.3f} at threshold "
                           f"{run.report.threshold:.2f} ({len(run.model.members)} networks)"])


@group.command("train-rhythm")
def train_rhythm(output: Path = typer.Option(..., "-o", "--output",
                                             help="Checkpoint folder to write (the shipped model is replaced "
                                                      "only when named here)."),
                 steps: int = typer.Option(1500, "--steps", help="Optimiser steps."),
                 grammar: int = typer.Option(6000, "--grammar", help="Patterns drawn from the style grammar."),
                 midi: list[Path] = typer.Option(None, "--midi",
                                                 help="Folder or file of GM drum MIDI (e.g. the Groove MIDI "
                                                      "Dataset) to train on as well; repeat."),
                 checkpoint_dir: Path = typer.Option(None, "--checkpoint-dir",
                                                     help="Periodic checkpoints here; a rerun resumes."),
                 threads: int = typer.Option(1, "--threads", help="Torch CPU threads."),
                 seed: int = seed_option("--seed", "Random seed."),
                 as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Train the rhythm VAE on the style grammar, the Hydrogen demo songs and optional GM drum MIDI.

    Example: latentstudio beatbox train-rhythm -o models/rhythm --midi groove/ --steps 3000
    """
    from latentstudio.beatbox.pipeline import train_rhythm_model

    set_threads(threads)
    with progress("training rhythm VAE", total=steps, quiet=as_json) as advance:
        run = train_rhythm_model(output, steps=steps, grammar=grammar, midi=midi or [],
                                 checkpoint_dir=checkpoint_dir, seed=seed, progress=fit_progress(advance))
    r = run.report
    _report(run, as_json, [f"held-out onset F1 {r.held_out_onset_f1:.3f}, step accuracy "
                           f"{r.held_out_step_accuracy:.3f}, requested vs produced density "
                           f"r={r.density_correlation:.3f}"])


def _parse_density(text: str | None) -> dict[str, float] | None:
    """``--density kick=0.25,closed_hat=0.5`` as {voice: fraction}."""
    from latentstudio.errors import ParameterError

    if not text:
        return None
    out = {}
    for item in text.split(","):
        name, _, val = item.partition("=")
        try:
            out[name.strip()] = float(val)
        except ValueError:
            raise ParameterError(f"--density {item!r} must be VOICE=FRACTION, e.g. kick=0.25") from None
    return out


@group.command("jam")
def jam(voices: list[Path] = typer.Argument(..., help="One or more recordings of voice sounds."),
        output: Path = typer.Option(..., "-o", "--output", help="Beat audio to write (.wav, .flac, .ogg)."),
        bars: int = typer.Option(16, "--bars", help="Bars to render (even)."),
        bpm: float = typer.Option(100.0, "--bpm", help="Tempo."),
        midi: Path = typer.Option(None, "--midi", help="Also write the beat as General MIDI drums (.mid)."),
        kit: str = typer.Option("GMRockKit", "--kit", help="Hydrogen kit the beat starts from."),
        mode: str = typer.Option("replace", "--mode", help="replace or layer the kit's samples with the voices."),
        evolve_bars: int = typer.Option(4, "--evolve-bars", help="A new rhythm target every this many bars."),
        temperature: float = typer.Option(0.5, "--temperature", min=0.0, max=2.0,
                                          help="Randomness of the generated hits (0-2)."),
        density: str = typer.Option(None, "--density", help="Per-drum densities, e.g. kick=0.25,closed_hat=0.5."),
        calibrate: list[str] = typer.Option(None, "--calibrate", help="LABEL=FILE examples of your own sounds."),
        seed: int = seed_option("--seed", "Random seed of the generated rhythm."),
        as_json: bool = typer.Option(False, "--json", help="Print what was made as JSON.")) -> None:
    """Turn voice recordings into a kit and render an evolving generated beat (audio and MIDI).

    Example: latentstudio beatbox jam voice.wav -o beat.wav --bars 16 --bpm 100 --midi beat.mid
    """
    from latentstudio.beatbox.pipeline import jam_recordings, save_beat
    from latentstudio.cli._common import out_path, stderr

    out_path(output, suffixes=(".wav", ".flac", ".ogg"))
    if midi is not None:
        out_path(midi, suffixes=(".mid", ".midi"), name="--midi")
    _one_thread()
    result = jam_recordings(voices, calibration=_calibration(calibrate), kit=kit, bars=bars, bpm=bpm,
                            evolve_bars=evolve_bars, temperature=temperature, mode=mode,
                            density=_parse_density(density), seed=seed)
    for note in result.notes:
        stderr(f"note: {note}")
    info = save_beat(result, output, midi, command="beatbox jam", seed=seed,
                     params={"voices": [str(v) for v in voices], "bars": bars, "bpm": bpm, "kit": kit,
                             "mode": mode, "evolve_bars": evolve_bars, "temperature": temperature}).to_dict()
    if as_json:
        print_json(info)
        return
    typer.echo(f"{info['output']}: {info['seconds']} s, {len(result.hits)} voice sounds "
               f"({', '.join(sorted({h.label for h in result.hits}))})")


@group.command("session")
def session(directory: Path = typer.Argument(..., help="Session folder (created if new)."),
            voices: list[Path] = typer.Argument(None, help="New recordings (default: the new files in DIR/inbox)."),
            bars: int = typer.Option(8, "--bars", help="Bars to render for this turn (even)."),
            bpm: float = typer.Option(None, "--bpm", help="Tempo of a new session (default 100)."),
            kit: str = typer.Option(None, "--kit", help="Hydrogen kit of a new session (default GMRockKit)."),
            seed: int = seed_option("--seed", "Random seed of this turn's rhythm."),
            as_json: bool = typer.Option(False, "--json", help="Print what was made as JSON.")) -> None:
    """Installation mode: each new recording joins the kit and the ongoing piece kept in DIR.

    Example: latentstudio beatbox session booth/ visitor3.wav
    """
    from latentstudio.beatbox.session import take_turn
    from latentstudio.cli._common import stderr

    _one_thread()
    turn = take_turn(directory, voices or [], bars=bars, bpm=bpm, kit=kit, seed=seed)
    for note in turn.beat.notes:
        stderr(f"note: {note}")
    info = turn.to_dict()
    if as_json:
        print_json(info)
        return
    typer.echo(f"turn {turn.number}: {info['output']} ({len(turn.hits)} new sounds; the kit holds "
               f"{len(turn.state.sounds)} voice sounds)")


@group.command("generate")
def generate(output: Path = typer.Option(..., "-o", "--output", help="MIDI file to write (.mid)."),
             bars: int = typer.Option(8, "--bars", help="Bars (even)."),
             bpm: float = typer.Option(100.0, "--bpm", help="Tempo."),
             density: str = typer.Option(None, "--density", help="Per-drum densities, e.g. kick=0.25,closed_hat=0.5."),
             temperature: float = typer.Option(0.5, "--temperature", min=0.0, max=2.0,
                                               help="Randomness of the hits (0-2)."),
             seed: int = seed_option("--seed", "Random seed."),
             as_json: bool = typer.Option(False, "--json", help="Print the patterns as JSON.")) -> None:
    """Generate drum patterns with the rhythm VAE (no voices) and write them as General MIDI.

    Example: latentstudio beatbox generate -o groove.mid --density kick=0.25,closed_hat=1.0 --bars 8
    """
    from latentstudio.beatbox.pipeline import MIDI_SUFFIXES
    from latentstudio.beatbox.pipeline import generate as walk
    from latentstudio.cli._common import out_path

    out_path(output, suffixes=MIDI_SUFFIXES)
    res = walk(bars=bars, bpm=bpm, density=_parse_density(density), temperature=temperature, seed=seed)
    out = res.save(output)
    if as_json:
        print_json({"output": str(out), "patterns": [p.grid().splitlines() for p in res.patterns]})
        return
    for p in res.patterns:
        typer.echo(p.grid() + "\n")
    typer.echo(str(out))


def register(app: typer.Typer) -> None:
    """Add the ``beatbox`` group to the root app."""
    app.add_typer(group, name="beatbox")
