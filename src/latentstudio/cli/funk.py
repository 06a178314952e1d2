"""``latentstudio funk``: NeuralFunk — new samples from a spectrogram VAE and a WaveNet, and a track of them."""

from __future__ import annotations

from pathlib import Path

import typer

from latentstudio.catalog.batch import workers_for
from latentstudio.cli._common import (CLUSTER_HELP, count_progress, fit_progress, new_group, print_json, progress,
                                      seed_option, set_threads, workers_help)

group = new_group(help="NeuralFunk: synthesise new drum samples with a spectrogram VAE (and a WaveNet), and make "
                       "a track of them.\n\nExample: latentstudio funk dream -n 16 -o dreams/ --drum snare")

MODEL_HELP = "SampleVAE folder (default: the shipped one)."
WAVENET_HELP = "WaveNet folder to render audio, or 'shipped' (default: Griffin-Lim)."


def _models(model: Path | None, wavenet: Path | None):
    from latentstudio.funk.models import load_funk_models

    return load_funk_models(model, wavenet)


def _check_steps(steps: int, batch_size: int = 1) -> None:
    """Refuse absurd sizes before the sample sources are loaded (that takes seconds)."""
    from latentstudio.errors import ParameterError

    if steps < 1 or batch_size < 1:
        raise ParameterError(f"--steps {steps} and --batch-size {batch_size} must be >= 1")


def _report(gen, paths, as_json: bool) -> None:
    if as_json:
        print_json({"files": [str(p) for p in paths], **gen.how})
        return
    for p in paths:
        typer.echo(f"saved {p}")


@group.command("train-vae")
def train_vae(output: Path = typer.Option(..., "-o", "--output", help="Model folder to write."),
              folder: list[Path] = typer.Option(None, "--folder", help="Your samples (sub-folder and file names "
                                                                       "say the drum); they join the train split."),
              steps: int = typer.Option(2000, "--steps", help="Optimiser steps."),
              beta: float = typer.Option(0.25, "--beta", help="KL weight (chosen on validation: 0.25)."),
              class_weight: float = typer.Option(5.0, "--class-weight", help="Weight of the drum head's loss "
                                                                             "(chosen on validation: 5)."),
              latent_dim: int = typer.Option(64, "--latent-dim", min=1, max=1024, help="Latent width."),
              checkpoint_dir: Path = typer.Option(None, "--checkpoint-dir", help="Periodic checkpoints; a rerun "
                                                                                 "resumes."),
              threads: int = typer.Option(2, "--threads", help="Torch CPU threads."),
              seed: int = seed_option("--seed", "Random seed."),
              as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Train the spectrogram VAE (IAF posterior, drum-class head) on every installed sample source.

    Example: latentstudio funk train-vae -o models/funk-vae --steps 2000 --folder ~/samples
    """
    from latentstudio.funk.data import load_samples
    from latentstudio.funk.training import train_sample_vae

    _check_steps(steps)
    set_threads(threads)
    samples = load_samples(folders=tuple(folder or ()))
    command = (f"latentstudio funk train-vae -o {output} --steps {steps} --beta {beta} --class-weight {class_weight} "
               f"--seed {seed}")
    with progress("training SampleVAE", total=steps, quiet=as_json) as advance:
        run = train_sample_vae(samples, output, steps=steps, beta=beta, class_weight=class_weight,
                               latent_dim=latent_dim, seed=seed,
                               checkpoint_dir=checkpoint_dir, progress=fit_progress(advance),
                               meta={"command": command})
    if run.rank != 0:           # torchrun: rank 0 reports
        return
    if as_json:
        print_json(run.summary())
        return
    r = run.report
    typer.echo(f"saved {run.output} (trained on {r['train_sounds']} sounds in {run.seconds:.0f} s)")
    if "validation_sounds" in r:
        typer.echo(f"validation ({', '.join(r['validation_sources'])}): mel spectral convergence "
                   f"{r['validation_mel_spectral_convergence']:.3f}, drum head accuracy "
                   f"{r['validation_class_accuracy']:.3f}")


@group.command("train-wavenet")
def train_wavenet(output: Path = typer.Option(..., "-o", "--output", help="WaveNet folder to write."),
                  model: Path = typer.Option(None, "--model", help="SampleVAE whose latents condition it "
                                                                   "(default: the shipped one)."),
                  folder: list[Path] = typer.Option(None, "--folder", help="Your samples join the train split."),
                  steps: int = typer.Option(1500, "--steps", help="Optimiser steps."),
                  batch_size: int = typer.Option(8, "--batch-size", help="Segments per step."),
                  segment: int = typer.Option(4096, "--segment", help="Samples per segment."),
                  checkpoint_dir: Path = typer.Option(None, "--checkpoint-dir", help="Periodic checkpoints; a "
                                                                                     "rerun resumes."),
                  threads: int = typer.Option(2, "--threads", help="Torch CPU threads."),
                  seed: int = seed_option("--seed", "Random seed."),
                  as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Train the WaveNet vocoder (mel frames + VAE latent -> mu-law audio) on the train split.

    Example: latentstudio funk train-wavenet -o models/funk-wavenet --steps 1500
    """
    from latentstudio.funk.data import load_samples
    from latentstudio.funk.training import train_funk_wavenet

    _check_steps(steps, batch_size)
    set_threads(threads)
    vae, info, _ = _models(model, None)
    samples = load_samples(folders=tuple(folder or ()))
    command = (f"latentstudio funk train-wavenet -o {output} --model {model or 'shipped'} --steps {steps} "
               f"--batch-size {batch_size} --segment {segment} --seed {seed}")
    with progress("training WaveNet", total=steps, quiet=as_json) as advance:
        net, losses, seconds = train_funk_wavenet(samples, vae, output, steps=steps, batch_size=batch_size,
                                                  segment=segment, seed=seed, checkpoint_dir=checkpoint_dir,
                                                  progress=fit_progress(advance),
                                                  meta={"command": command, "vae": str(model or "shipped")})
    from latentstudio.train.distributed import launched_rank

    if launched_rank() != 0:    # torchrun: rank 0 reports
        return
    report = {"output": str(output), "steps": steps, "seconds": round(seconds, 1), "final_loss": losses[-1],
              "receptive_field": net.receptive_field}
    if as_json:
        print_json(report)
        return
    typer.echo(f"saved {output} ({seconds:.0f} s, final loss {losses[-1]:.3f} nats per sample)")


@group.command("sample")
def sample(output: Path = typer.Option(..., "-o", "--output", help="Folder for the WAV files."),
           n: int = typer.Option(8, "-n", help="How many sounds."),
           temperature: float = typer.Option(1.0, "--temperature", help="Scale of the prior."),
           model: Path = typer.Option(None, "--model", help=MODEL_HELP),
           wavenet: Path = typer.Option(None, "--wavenet", help=WAVENET_HELP),
           seed: int = seed_option("--seed", "Random seed."),
           as_json: bool = typer.Option(False, "--json", help="Print the files as JSON.")) -> None:
    """Random sounds from the VAE's prior.

    Example: latentstudio funk sample -o samples/ -n 8 --temperature 0.8
    """
    from latentstudio.funk.pipeline import sample as run

    vae, info, wn = _models(model, wavenet)
    gen = run(vae, info, n=n, temperature=temperature, seed=seed, wavenet=wn)
    _report(gen, gen.save(output, command="latentstudio funk sample"), as_json)


@group.command("dream")
def dream(output: Path = typer.Option(..., "-o", "--output", help="Folder for the WAV files."),
          n: int = typer.Option(16, "-n", help="How many sounds."),
          drum: str = typer.Option(None, "--drum", help="kick, snare, closed_hat, open_hat, tom, cymbal, clap or "
                                                        "rim (default: every class in turn)."),
          temperature: float = typer.Option(0.7, "--temperature", help="Spread within the class's region."),
          confidence: float = typer.Option(0.5, "--confidence", help="Keep dreams the VAE's own drum head gives "
                                                                     "at least this for the class (0: any)."),
          listen: bool = typer.Option(True, "--listen/--no-listen", help="Hear each rendered dream back through "
                                      "the VAE's head and re-draw (up to 4 renderings) when it lost its class."),
          model: Path = typer.Option(None, "--model", help=MODEL_HELP),
          wavenet: Path = typer.Option(None, "--wavenet", help=WAVENET_HELP),
          seed: int = seed_option("--seed", "Random seed."),
          as_json: bool = typer.Option(False, "--json", help="Print the files as JSON.")) -> None:
    """New drum sounds of a class, dreamt from that class's region of the latent space.

    Example: latentstudio funk dream -n 16 -o dreams/ --drum snare
    """
    from latentstudio.funk.pipeline import dream as run

    vae, info, wn = _models(model, wavenet)
    with progress(f"dreaming {n} sounds", quiet=as_json) as advance:
        gen = run(vae, info, n=n, drum=drum, temperature=temperature, confidence=confidence, listen=listen, seed=seed,
                  wavenet=wn, progress=count_progress(advance))
    _report(gen, gen.save(output, command="latentstudio funk dream"), as_json)


@group.command("reimagine")
def reimagine(sound: list[Path] = typer.Argument(..., help="Sound files to re-make."),
              output: Path = typer.Option(..., "-o", "--output", help="Folder for the WAV files."),
              variations: int = typer.Option(1, "--variations", help="Versions of each sound."),
              noise: float = typer.Option(0.0, "--noise", help="Noise added to the latent (prior scale)."),
              model: Path = typer.Option(None, "--model", help=MODEL_HELP),
              wavenet: Path = typer.Option(None, "--wavenet", help=WAVENET_HELP),
              seed: int = seed_option("--seed", "Random seed."),
              as_json: bool = typer.Option(False, "--json", help="Print the files as JSON.")) -> None:
    """Sounds re-made by the networks (encode, decode), with variations.

    Example: latentstudio funk reimagine kick.wav -o out/ --variations 4 --noise 0.3
    """
    from latentstudio.funk.pipeline import load_sounds, reimagine as run

    vae, info, wn = _models(model, wavenet)
    gen = run(vae, info, load_sounds(sound), variations=variations, noise=noise, seed=seed, wavenet=wn,
              names=[p.stem for p in sound])
    _report(gen, gen.save(output, command="latentstudio funk reimagine"), as_json)


@group.command("blend")
def blend(sound: list[Path] = typer.Argument(..., help="Two or more sound files."),
          output: Path = typer.Option(..., "-o", "--output", help="Folder for the WAV file."),
          weights: str = typer.Option(None, "--weights", help="One weight per sound, e.g. 1,1,-1 (a + b - c); "
                                                              "default equal."),
          model: Path = typer.Option(None, "--model", help=MODEL_HELP),
          wavenet: Path = typer.Option(None, "--wavenet", help=WAVENET_HELP),
          seed: int = seed_option("--seed", "Random seed."),
          as_json: bool = typer.Option(False, "--json", help="Print the file as JSON.")) -> None:
    """One sound from several: a weighted mix of their latents (negative weights: arithmetic).

    Example: latentstudio funk blend kick.wav snare.wav -o out/ --weights 0.7,0.3
    """
    from latentstudio.errors import ParameterError
    from latentstudio.funk.pipeline import blend as run, load_sounds

    w = None
    if weights:
        try:
            w = [float(x) for x in weights.split(",")]
        except ValueError:
            raise ParameterError(f"--weights {weights!r} must be numbers separated by commas") from None
    vae, info, wn = _models(model, wavenet)
    gen = run(vae, info, load_sounds(sound), weights=w, seed=seed, wavenet=wn)
    _report(gen, gen.save(output, command="latentstudio funk blend"), as_json)


@group.command("interpolate")
def interpolate(sound_a: Path = typer.Argument(..., help="First sound."),
                sound_b: Path = typer.Argument(..., help="Second sound."),
                output: Path = typer.Option(..., "-o", "--output", help="Folder for the WAV files."),
                steps: int = typer.Option(8, "--steps", help="Sounds on the way, both ends included."),
                model: Path = typer.Option(None, "--model", help=MODEL_HELP),
                wavenet: Path = typer.Option(None, "--wavenet", help=WAVENET_HELP),
                seed: int = seed_option("--seed", "Random seed (Griffin-Lim phase, WaveNet draws)."),
                as_json: bool = typer.Option(False, "--json", help="Print the files as JSON.")) -> None:
    """Sounds on the straight line between two sounds' latents.

    Example: latentstudio funk interpolate kick.wav snare.wav -o morph/ --steps 8
    """
    from latentstudio.errors import ParameterError
    from latentstudio.funk.pipeline import interpolate as run, load_sounds

    if not 2 <= steps <= 256:
        raise ParameterError(f"--steps {steps} must be within 2..256")
    vae, info, wn = _models(model, wavenet)
    gen = run(vae, info, load_sounds([sound_a, sound_b]), steps=steps, seed=seed, wavenet=wn)
    _report(gen, gen.save(output, command="latentstudio funk interpolate"), as_json)


@group.command("encode")
def encode(sound: list[Path] = typer.Argument(..., help="Sound files."),
           output: Path = typer.Option(None, "-o", "--output", help="Also write the latents here (.json)."),
           model: Path = typer.Option(None, "--model", help=MODEL_HELP),
           as_json: bool = typer.Option(False, "--json", help="Print the latents as JSON.")) -> None:
    """Each sound's latent vector (and the drum the VAE's head hears), for `funk decode` or your own code.

    Example: latentstudio funk encode kick.wav snare.wav -o latents.json
    """
    import json

    from latentstudio.core.fileio import atomic_write_text
    from latentstudio.funk.pipeline import encode_files

    vae, _, _ = _models(model, None)
    rows = encode_files(vae, sound)
    if output is not None:
        from latentstudio.cli._common import out_path

        from latentstudio.provenance import write_sidecar

        atomic_write_text(out_path(output, suffixes=(".json",)), json.dumps(rows, indent=1) + "\n")
        write_sidecar(output, command="latentstudio funk encode",
                      params={"sounds": [str(p) for p in sound], "model": str(model) if model else "shipped"})
    if as_json:
        print_json(rows)
    else:
        for r in rows:
            typer.echo(f"{r['file']}: {r.get('drum', '?')}, |z| = {sum(v * v for v in r['latent']) ** 0.5:.2f}")


@group.command("decode")
def decode(latents: Path = typer.Argument(..., help="A .json from `funk encode` (or a list of vectors)."),
           output: Path = typer.Option(..., "-o", "--output", help="Folder for the WAV files."),
           model: Path = typer.Option(None, "--model", help=MODEL_HELP),
           wavenet: Path = typer.Option(None, "--wavenet", help=WAVENET_HELP),
           seed: int = seed_option("--seed", "Random seed (Griffin-Lim phase, WaveNet draws)."),
           as_json: bool = typer.Option(False, "--json", help="Print the files as JSON.")) -> None:
    """Sounds from latent vectors (edit them between `funk encode` and here).

    Example: latentstudio funk decode latents.json -o decoded/
    """
    from latentstudio.funk.pipeline import decode_latents, read_latents

    z = read_latents(latents)
    vae, info, wn = _models(model, wavenet)
    gen = decode_latents(vae, info, z, wavenet=wn, seed=seed, source=str(latents))
    _report(gen, gen.save(output, command="latentstudio funk decode"), as_json)


@group.command("index")
def index(folder: Path = typer.Argument(..., help="Your sample library (searched recursively)."),
          catalog: Path = typer.Option(None, "--catalog", help="Catalog file (default: the embedded one)."),
          model: Path = typer.Option(None, "--model", help=MODEL_HELP),
          workers: int = typer.Option(None, "--workers", "-j", help=workers_help(1)),
          cluster: str = typer.Option(None, "--cluster", help=CLUSTER_HELP),
          as_json: bool = typer.Option(False, "--json", help="Print the ingest report as JSON.")) -> None:
    """Put a sample library in the catalog with each sound's latent, for `funk similar`.

    Example: latentstudio funk index ~/samples --workers 2     (on a Ray cluster: --cluster auto)
    """
    from latentstudio.catalog import Catalog
    from latentstudio.funk.library import index_library, library_files

    vae, _, _ = _models(model, None)
    total = len(library_files(folder))
    with Catalog(catalog) as cat, progress("indexing sounds", total=total, quiet=as_json) as advance:
        report = index_library(folder, vae=vae, catalog=cat, progress=advance,
                               workers=workers_for(workers, cluster, 1),
                               cluster=cluster)
    if report.failed and not report.added and not report.skipped:
        from latentstudio.errors import ParameterError

        for path, reason in report.failed[:2]:
            typer.echo(f"skipped {path}: {reason}", err=True)
        raise ParameterError(f"library {str(folder)!r}: none of its {total} files could be read")
    if as_json:
        print_json(report.summary())
        return
    typer.echo(f"indexed {folder}: {report.summary()}")


@group.command("similar")
def similar(sound: Path = typer.Argument(..., help="A sound whose neighbours to find."),
            top: int = typer.Option(5, "--top", help="How many."),
            catalog: Path = typer.Option(None, "--catalog", help="Catalog file (default: the embedded one)."),
            model: Path = typer.Option(None, "--model", help=MODEL_HELP),
            as_json: bool = typer.Option(False, "--json", help="Print the neighbours as JSON.")) -> None:
    """The library sounds (`funk index`) nearest a sound in the VAE's latent space.

    Example: latentstudio funk similar dreams/snare_00.wav --top 5
    """
    from latentstudio.catalog import Catalog
    from latentstudio.funk.library import similar as run

    vae, _, _ = _models(model, None)
    with Catalog(catalog) as cat:
        hits = run(sound, vae=vae, k=top, catalog=cat)
    rows = [{"path": str(item.path), "similarity": round(float(score), 4)} for item, score in hits]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['similarity']:.3f}  {r['path']}")


@group.command("track")
def track(output: Path = typer.Option(..., "-o", "--output", help="Track to write (.wav, .flac, .ogg)."),
          bpm: float = typer.Option(170.0, "--bpm", help="Tempo."),
          bars: int = typer.Option(24, "--bars", help="Length in bars (a multiple of 8)."),
          model: Path = typer.Option(None, "--model", help=MODEL_HELP),
          wavenet: Path = typer.Option(None, "--wavenet", help=WAVENET_HELP),
          seed: int = seed_option("--seed", "Random seed (kit dreams and rhythm)."),
          as_json: bool = typer.Option(False, "--json", help="Print the arrangement as JSON.")) -> None:
    """A short drum & bass track made only of dreamt samples, sequenced by the beatbox's rhythm generator.

    Example: latentstudio funk track -o track.wav --bpm 170 --bars 24 --seed 3
    """
    from latentstudio.cli._common import out_path
    from latentstudio.funk.track import make_track

    out_path(output, suffixes=(".wav", ".flac", ".ogg"))
    vae, info, wn = _models(model, wavenet)
    with progress("making the track", quiet=as_json) as advance:
        tr = make_track(vae, info, bpm=bpm, bars=bars, seed=seed, wavenet=wn, progress=count_progress(advance))
    p = tr.save(output)
    if as_json:
        print_json({"output": str(p), "seconds": round(len(tr.audio) / tr.sr, 2), "bpm": tr.bpm,
                    "sections": tr.sections, "kit": tr.kit})
        return
    typer.echo(f"saved {p} ({len(tr.audio) / tr.sr:.1f} s at {tr.bpm:g} bpm; "
               + ", ".join(f"{n} bars {a}-{b}" for n, a, b in tr.sections) + ")")


def register(app: typer.Typer) -> None:
    """Add the ``funk`` group to the root app."""
    app.add_typer(group, name="funk")
