"""``latentstudio soundscape``: Imaginary Soundscapes — train the student, index sounds, query and render."""

from __future__ import annotations

from pathlib import Path

import typer

from latentstudio.catalog.batch import workers_for
from latentstudio.cli._common import (CLUSTER_HELP, count_progress, existing, new_group, out_path, print_json,
                                      progress, seed_option, stderr, workers_help)
from latentstudio.errors import ParameterError

group = new_group(help="Imaginary Soundscapes: an image evokes its sound (teacher-student audio model, sound "
                       "index, retrieval, layered soundscapes).\n\nExample: latentstudio soundscape query "
                       "photo.jpg --top 5 --json")

_CATALOG = typer.Option(None, "--catalog", help="Catalog folder or .sqlite file (default: the shared catalog "
                                                "in the cache folder).")
_MODEL = typer.Option(None, "--model", help="Student checkpoint folder (default: the shipped model).")


def _open(catalog: Path | None, model: Path | None):
    from latentstudio.catalog import Catalog
    from latentstudio.soundscape.student import load_student

    net, info = load_student(model)
    return Catalog(catalog), net, info


def _emit(cat, report, as_json: bool) -> bool:
    """Unreadable files to stderr and, with --json, the report to stdout; True when the JSON was printed."""
    for path, reason in report.failed:
        stderr(f"skipped {path}: {reason}")
    if as_json:
        print_json({"catalog": str(cat.path), **report.summary()})
    return as_json


@group.command("train")
def train(data: str = typer.Argument("tuxpaint", help="'tuxpaint' (default: Tux Paint stamps with their own "
                                                      "sounds), a folder of videos, or a .csv/.json manifest "
                                                      "of image,sound pairs."),
          output: Path = typer.Option(..., "-o", "--output", help="Model folder to write."),
          steps: int = typer.Option(800, "--steps", help="Optimiser steps."),
          batch_size: int = typer.Option(32, "--batch-size", help="Items per step (pairs and labelled sounds)."),
          lr: float = typer.Option(3e-3, "--lr", help="Peak learning rate (AdamW, cosine schedule)."),
          temperature: float = typer.Option(2.0, "--temperature", help="Teacher softmax temperature."),
          contrastive: float = typer.Option(1.0, "--contrastive", help="Weight of the InfoNCE term (0 = KL only)."),
          labels: bool = typer.Option(True, "--labels/--no-labels", help="Also learn from the labelled sounds of "
                                                                        "the installed library packages."),
          label_weight: float = typer.Option(1.0, "--label-weight", help="Weight of the label KL term."),
          views: int = typer.Option(16, "--views", help="Augmented image views per pair shown to the teacher."),
          validation: float = typer.Option(0.2, "--validation", help="Fraction of sound groups for validation."),
          holdout: float = typer.Option(0.25, "--holdout", help="Fraction of sound groups held out for testing."),
          split_seed: int = seed_option("--split-seed", "Seed of the train/validation/test split."),
          teacher_name: str = typer.Option("efficientnet_lite0", "--teacher", help="Zoo classifier as teacher."),
          teacher_views: str = typer.Option(None, "--teacher-views", show_default=False,
                                            help="How the teacher looks at a picture: 'crop' (the centre crop) or "
                                                 "'crop+whole' (also the whole picture, letterboxed; the default)."),
          head_init: str = typer.Option("teacher", "--head-init", help="'teacher': class vectors start from the "
                                                                      "teacher's classifier (PCA); 'random'."),
          reference: str = typer.Option("tuxpaint", "--reference", help="Pictures that stand for what users will "
                                        "ask about, against which each sound's hubness is measured: 'tuxpaint' "
                                        "(the stamps without a sound), 'none' (the training images alone) or a "
                                        "folder."),
          checkpoint_every: int = typer.Option(250, "--checkpoint-every", help="Steps between checkpoints."),
          resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue an interrupted run."),
          threads: int = typer.Option(1, "--threads", help="Torch CPU threads (1: the same result on any "
                                                           "machine, and fastest on a busy one)."),
          seed: int = seed_option("--seed", "Random seed (views, batches, weights)."),
          as_json: bool = typer.Option(False, "--json", help="Print the training report as JSON.")) -> None:
    """Train the student: a spectrogram CNN that learns the teacher's view of paired images and labelled sounds.

    Example: latentstudio soundscape train tuxpaint -o models/soundscape --steps 800 --seed 0
    """
    import torch

    from latentstudio.soundscape.pipeline import train_from_source

    if threads < 1:
        raise ParameterError(f"--threads={threads} must be >= 1")
    torch.set_num_threads(threads)
    with progress("distilling", total=steps) as advance:
        last = [0]

        def on_step(step, total, loss):
            advance(step - last[0], description=f"distilling (loss {loss:.3f})")
            last[0] = step

        run = train_from_source(data, output, steps=steps, batch_size=batch_size, lr=lr,
                                temperature=temperature, contrastive=contrastive, labels=labels,
                                label_weight=label_weight, views=views,
                                validation=validation, holdout=holdout, split_seed=split_seed,
                                teacher=teacher_name, teacher_views=teacher_views, head_init=head_init,
                                reference=reference,
                                checkpoint_every=checkpoint_every,
                                resume=resume, seed=seed, progress=on_step,
                                bank_progress=lambda done, total: advance(
                                    0, description=f"augmenting sounds {done}/{total}"),
                                pair_progress=lambda done, total: advance(
                                    0, description=f"teacher views {done}/{total}"),
                                reference_progress=lambda done, total: advance(
                                    0, description=f"reference pictures {done}/{total}"))
    from latentstudio.train.distributed import launched_rank

    if launched_rank() != 0:    # torchrun: rank 0 reports
        return
    report = run.report
    for path, reason in report["skipped"] + report["reference_queries"]["skipped"]:
        stderr(f"skipped {path}: {reason}")
    if as_json:
        print_json({"model": str(output), **report})
    else:
        typer.echo(f"model written to {output} ({report['train_pairs']} pairs, {report['label_sounds']} "
                   f"labelled sounds)")
        if "validation_recall" in report:
            r, c = report["validation_recall"], report["validation_chance"]
            typer.echo(f"validation recall@1/5/10: {r[1]:.2f} {r[5]:.2f} {r[10]:.2f} "
                       f"(chance {c[1]:.2f} {c[5]:.2f} {c[10]:.2f})")


library = new_group(help="The labelled sound library from Debian packages (and your folders).\n\n"
                         "Example: latentstudio soundscape library build --json")
group.add_typer(library, name="library")


@library.command("build")
def library_build(packages: list[str] = typer.Option(None, "--package", help="Only this package (repeatable; "
                                                                             "default: every installed one but "
                                                                             "0ad-data; 'all': every installed "
                                                                             "one)."),
                  use_packages: bool = typer.Option(True, "--packages/--no-packages",
                                                    help="--no-packages: only the --add folders."),
                  add: list[Path] = typer.Option(None, "--add", help="A folder of your own sounds to join the "
                                                                      "library (repeatable)."),
                  catalog: Path = _CATALOG, model: Path = _MODEL,
                  threads: int = typer.Option(1, "--threads", help="Torch CPU threads (in this process)."),
                  workers: int = typer.Option(None, "--workers", "-j", help=workers_help(1)),
                  cluster: str = typer.Option(None, "--cluster", help=CLUSTER_HELP),
                  as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Collect, label (WordNet), dedupe (decoded audio) and embed the library sounds into the catalog.

    Example: latentstudio soundscape library build --add ~/field-recordings --json
    """
    import torch

    from latentstudio.soundscape.library import build_library, check_packages

    if threads < 1:
        raise ParameterError(f"--threads={threads} must be >= 1")
    if packages:
        check_packages(packages)
    torch.set_num_threads(threads)
    folders = [existing(f, what="--add") for f in (add or [])]
    cat, net, info = _open(catalog, model)
    with cat, progress("decoding sounds") as advance:
        report = build_library(cat, model=net, model_id=info["id"],
                               packages=(packages or None) if use_packages else [], folders=folders,
                               progress=count_progress(advance),
                               workers=workers_for(workers, cluster, 1), cluster=cluster)
    if not _emit(cat, report, as_json):
        for pkg, row in sorted(report.per_package.items()):
            typer.echo(f"{pkg:28s} {row['sounds']:5d} sounds, {row['labelled']:5d} labelled  ({row['licence']})")
        typer.echo(f"{report.sounds} sounds ({report.labelled} labelled, {len(report.duplicates)} duplicates "
                   f"dropped, {len(report.failed)} unreadable); {report.added} embedded now -> {cat.path}")


@group.command("index")
def index(sound_dir: str = typer.Argument("tuxpaint", help="Folder of sounds (recursive), or 'tuxpaint' for "
                                                           "the Tux Paint stamp sounds."),
          catalog: Path = _CATALOG, model: Path = _MODEL,
          threads: int = typer.Option(1, "--threads", help="Torch CPU threads (the student is small: one "
                                                           "thread is usually fastest)."),
          workers: int = typer.Option(None, "--workers", "-j", help=workers_help(1)),
          cluster: str = typer.Option(None, "--cluster", help=CLUSTER_HELP),
          as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Embed every sound of a folder into the catalog (incremental; unreadable files are reported).

    Example: latentstudio soundscape index ~/sounds --json      (on a Ray cluster: --cluster auto)
    """
    import torch

    if threads < 1:
        raise ParameterError(f"--threads={threads} must be >= 1")
    torch.set_num_threads(threads)
    from latentstudio.soundscape.index import index_sounds
    from latentstudio.soundscape.pipeline import source_sounds

    files = source_sounds(sound_dir)
    cat, net, info = _open(catalog, model)
    with cat, progress("indexing sounds", total=len(files)) as advance:
        report = index_sounds(files, catalog=cat, model=net, model_id=info["id"], progress=advance,
                              workers=workers_for(workers, cluster, 1), cluster=cluster)
    if report.failed and not report.added and not report.skipped:
        _emit(cat, report, False)
        raise ParameterError(f"sound folder {sound_dir!r}: none of its {len(files)} files could be read "
                             "(see the messages above)")
    if not _emit(cat, report, as_json):
        typer.echo(f"{len(report.added)} added, {len(report.skipped)} already indexed, {len(report.failed)} "
                   f"unreadable ({report.realtime_factor:.0f}x real time) -> {cat.path}")


def _headings(headings: str) -> int | None:
    """``--headings auto`` (None) or a number."""
    if headings == "auto":
        return None
    try:
        return int(headings)
    except ValueError:
        raise ParameterError(f"--headings={headings!r} must be 'auto' or a number") from None


@group.command("query")
def query(image: Path = typer.Argument(..., help="Image file (any mode: RGBA, greyscale, 16-bit ...)."),
          top: int = typer.Option(5, "--top", help="How many sounds."),
          headings: str = typer.Option("1", "--headings", help="'auto' splits wide images into headings; "
                                                               "or a number of headings."),
          catalog: Path = _CATALOG, model: Path = _MODEL,
          as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
    """Rank the library's sounds for an image, with scores and the teacher's top labels.

    Example: latentstudio soundscape query photo.jpg --top 5 --json
    """
    from latentstudio.core.image import load
    from latentstudio.soundscape.query import query_image

    n_head = _headings(headings)
    img = load(existing(image, what="IMAGE"))
    cat, net, info = _open(catalog, model)
    with cat:
        result = query_image(img, model=net, model_id=info["id"], catalog=cat, top=top, headings=n_head)
    if as_json:
        print_json({"image": str(image), "model": info["id"], **result.to_dict()})
        return
    typer.echo("teacher sees: " + ", ".join(f"{lab} ({p:.2f})" for lab, p in result.teacher_labels[:3]))
    for rank, m in enumerate(result.matches, 1):
        typer.echo(f"{rank:2d}. {m.score:.3f}  {m.path}" + (f"  pan {m.pan:+.2f}" if m.pan else ""))


@group.command("render")
def render(image: Path = typer.Argument(..., help="Image file."),
           output: Path = typer.Option(..., "-o", "--output", help="Soundscape audio file (.wav, .flac, .ogg)."),
           seconds: float = typer.Option(30.0, "--seconds", help="Length of the soundscape."),
           top: int = typer.Option(5, "--top", help="How many sounds to layer."),
           headings: str = typer.Option("auto", "--headings", help="'auto' (wide images pan by heading) or N."),
           sr: int = typer.Option(44100, "--sr", help="Sample rate of the result."),
           catalog: Path = _CATALOG, model: Path = _MODEL,
           seed: int = seed_option("--seed", "Seeds event times and the stereo spread."),
           as_json: bool = typer.Option(False, "--json", help="Print the layers as JSON.")) -> None:
    """Layer the best-matching sounds into a stereo soundscape (loops, crossfades, levels by score).

    Example: latentstudio soundscape render street.jpg -o scene.wav --seconds 30
    """
    from latentstudio.core.image import load
    from latentstudio.soundscape.pipeline import soundscape_for_image

    out = out_path(output, suffixes=(".wav", ".flac", ".ogg"))
    n_head = _headings(headings)
    img = load(existing(image, what="IMAGE"))
    cat, net, info = _open(catalog, model)
    with cat:
        scape = soundscape_for_image(img, model=net, model_id=info["id"], catalog=cat, top=top,
                                     headings=n_head, seconds=seconds, sr=sr, seed=seed)
    scape.save(out, params={"image": str(image), "seconds": seconds, "top": top, "headings": headings,
                            "sr": sr})
    if as_json:
        print_json({"output": str(out), **scape.query.to_dict()})
    else:
        typer.echo(str(out))


def register(app: typer.Typer) -> None:
    """Add the ``soundscape`` group to the root app."""
    app.add_typer(group, name="soundscape")
