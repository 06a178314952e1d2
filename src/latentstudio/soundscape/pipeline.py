"""One training run of the soundscape student, end to end (the CLI and the bench both call this).

:func:`train_from_source` is the whole ``soundscape train`` run from its options: the steps below
(:func:`train_soundscape`), then the model saved with the command that reproduces it, its provenance
sidecar written and the interim checkpoints removed.

1. pairs: Tux Paint stamps with their own sound (or a manifest, or videos), their teacher views cached;
2. split by decoded sound content into train / validation / test (:func:`~.data.split_three`,
   ``split_seed`` fixed so that every training seed sees the same held-out pairs);
3. labels: the library sounds of :data:`LABEL_TRAIN_PACKAGES` whose WordNet label gives a target
   (:mod:`.targets`); sounds of the held-out pairs are excluded by decoded-audio hash, and the packages of
   :data:`HELDOUT_PACKAGES` are never trained on (they are the unseen origin of the evaluation);
4. distillation (:func:`~.training.train_student`), then recall on the *validation* pairs (the test
   pairs are read by ``bench/soundscape.py`` only);
5. the teacher distributions of the training images, and of pictures without sound that stand for what
   users will ask about (:func:`reference_images`: by default the Tux Paint stamps that have no sound of
   their own, about 640, the evaluation pictures left out), are kept with the model as the *reference
   queries* against which a sound's hubness is measured (CSLS, :func:`~.index.hub_scores`).

The explorer's runs: :func:`source_sounds` (the sounds of ``"tuxpaint"`` or a folder, to index) and
:func:`soundscape_for_image` -> :class:`Soundscape` (the best-matching sounds layered into a stereo scene).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentstudio.errors import ParameterError
from latentstudio.soundscape import data as sd
from latentstudio.soundscape.evaluate import chance_recall, heldout_recall
from latentstudio.soundscape.features import MelSpec
from latentstudio.soundscape.targets import TargetConfig, library_labels
from latentstudio.soundscape.teacher import Teacher, softmax
from latentstudio.soundscape.training import DistillConfig, train_student

#: Library packages whose labelled sounds the student learns from.
LABEL_TRAIN_PACKAGES = ("wesnoth-1.16-data", "supertux-data", "warzone2100-data", "sonic-pi-samples",
                        "sound-theme-freedesktop")
#: Library packages never trained on: the unseen origin of the evaluation.
HELDOUT_PACKAGES = ("openttd-opensfx",)


#: Where the reference queries of hubness come from besides the training images: ``"tuxpaint"`` (the Tux Paint
#: stamps without a sound of their own), ``"none"`` (the training images alone) or a folder of pictures.
#: Chosen on validation (3 seeds, ``HUB_NEIGHBOURS`` re-chosen with it): the 74 training images alone gave
#: recall@10 0.78 and 5 of 8 pictures; with the stamps 0.83-0.87 and 6 of 8 on every seed, largest hub 6.7 %.
REFERENCE_DEFAULT = "tuxpaint"


def reference_images(source: str = REFERENCE_DEFAULT) -> list[Path]:
    """Pictures whose teacher distributions join the training images' as reference queries (see the module).

    ``"tuxpaint"``: the raster Tux Paint stamps without a sound of their own, less the evaluation pictures
    (:data:`~.evaluate.VALIDATION_PICTURES`, :data:`~.evaluate.TEST_PICTURES`, by name and by content), or
    nothing when the stamps are not installed; ``"none"``: nothing; else a folder of pictures.

    Raises
    ------
    ParameterError : a folder that does not exist or holds no images
    """
    from latentstudio import assets
    from latentstudio.catalog import hash_file
    from latentstudio.core.image import image_files
    from latentstudio.errors import AssetMissingError
    from latentstudio.soundscape.evaluate import TEST_PICTURES, VALIDATION_PICTURES

    if source == "none":
        return []
    if source != "tuxpaint":
        return image_files(source, what="reference folder")
    try:
        stamps = assets.tuxpaint_stamps(raster_only=True)
    except AssetMissingError:
        return []
    held = {p.name for p in VALIDATION_PICTURES + TEST_PICTURES if p.source == "tuxpaint"}
    held_files = [s.image for s in stamps if f"{s.category}/{s.name}" in held]
    held_hashes = {hash_file(f) for f in held_files}
    return [Path(s.image) for s in stamps if s.sound is None and f"{s.category}/{s.name}" not in held
            and hash_file(s.image) not in held_hashes]


def load_pairs(data: str, teacher: Teacher, *, spec: MelSpec, views: int, seed: int, progress=None
               ) -> tuple[sd.PairSet, str]:
    """``data`` = ``"tuxpaint"``, a folder of videos or a .csv/.json manifest -> (pairs, kind)."""
    if data == "tuxpaint":
        return sd.tuxpaint_pairs(teacher, spec=spec, views=views, seed=seed, progress=progress), "tuxpaint"
    p = Path(data)
    if not p.exists():
        raise ParameterError(f"DATA {data!r} does not exist")
    if p.is_dir():
        return sd.video_pairs(p, teacher, spec=spec, progress=progress), "videos"
    if p.suffix.lower() in (".csv", ".json"):
        return sd.manifest_pairs(p, teacher, spec=spec, views=views, seed=seed, progress=progress), "manifest"
    raise ParameterError(f"DATA {data!r} must be 'tuxpaint', a folder of videos or a .csv/.json manifest")


def load_labels(spec: MelSpec, *, packages=LABEL_TRAIN_PACKAGES, target: TargetConfig = TargetConfig(),
                exclude_hashes=(), progress=None) -> sd.LabelSet:
    """The labelled library sounds of the installed ``packages`` as a :class:`~.data.LabelSet` (may be empty)."""
    from latentstudio.soundscape.library import collect_sounds, installed_packages, load_library

    have = [p for p in packages if p in installed_packages()]
    if not have:
        return sd.LabelSet()
    lib = load_library(collect_sounds(have), spec=spec, progress=progress)
    return library_labels(lib, packages=have, config=target, exclude_hashes=exclude_hashes)


@dataclass
class TrainRun:
    """A finished run: the model, the loop's result, a JSON-able report and the meta saved beside the weights."""

    model: object
    result: object
    report: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    reference: np.ndarray | None = None

    def save(self, directory) -> Path:
        """Write the student (weights, config, meta, reference distributions) to ``directory``."""
        import torch

        from latentstudio.zoo.checkpoint import save_checkpoint

        extra = {} if self.reference is None else {"reference_probs": torch.from_numpy(self.reference).half()}
        cfg = DistillConfig(**{k: v for k, v in self.meta["distill"].items()})
        return save_checkpoint(directory, self.model, config=cfg.model_config(self.model.num_classes),
                               meta=self.meta, extra_tensors=extra)


def train_soundscape(data: str = "tuxpaint", *, config: DistillConfig, views: int = 16, validation: float = 0.2,
                     test: float = 0.25, split_seed: int = 0, labels: bool = True,
                     target: TargetConfig = TargetConfig(), reference: str = REFERENCE_DEFAULT,
                     checkpoint_dir=None, checkpoint_every: int = 250, resume: bool = True, progress=None,
                     bank_progress=None, pair_progress=None, reference_progress=None) -> TrainRun:
    """Load pairs (and labels), split, distil, and measure validation recall; see the module docstring.
    ``reference``: where the reference queries come from besides the training images (:func:`reference_images`;
    their teacher views reported to ``reference_progress(done, total)``).

    Raises
    ------
    ParameterError : unusable data (fewer than 2 pairs), bad fractions or views, a bad reference folder
    """
    config.validate()
    if views < 1:
        raise ParameterError(f"views={views} must be >= 1")
    ref_images = reference_images(reference)
    spec = MelSpec(**config.mel)
    teacher = Teacher(config.teacher, temperature=config.temperature, views=config.teacher_views)
    pairs, kind = load_pairs(data, teacher, spec=spec, views=views, seed=config.seed, progress=pair_progress)
    if len(pairs) < 2:
        raise ParameterError(f"DATA {data!r} gave {len(pairs)} usable pairs; training needs at least 2")
    tr, va, te = sd.split_three(pairs.groups, validation=validation, test=test, seed=split_seed)
    train_set, val_set, test_set = pairs.subset(tr), pairs.subset(va), pairs.subset(te)
    label_set = sd.LabelSet()
    if labels and config.label_weight > 0:
        label_set = load_labels(spec, target=target, exclude_hashes=set(val_set.groups) | set(test_set.groups))
    model, result = train_student(train_set, config=config, checkpoint_dir=checkpoint_dir,
                                  checkpoint_every=checkpoint_every, resume=resume, progress=progress,
                                  bank_progress=bank_progress, labels=label_set if len(label_set) else None)
    report = {"data": kind, "pairs": len(pairs), "train_pairs": len(train_set), "validation_pairs": len(val_set),
              "heldout_pairs": len(test_set), "skipped": [[p, r] for p, r in pairs.skipped],
              "label_sounds": len(label_set), "label_packages": sorted(set(label_set.packages)),
              "steps": result.steps_done, "loss_first": float(np.mean(result.losses[:20])),
              "loss_last": float(np.mean(result.losses[-20:])), "train_seconds": round(result.seconds, 1)}
    if len(val_set) >= 2:
        report["validation_recall"] = heldout_recall(model, val_set)
        report["validation_chance"] = chance_recall(len(val_set))
    meta = {"distill": config.to_dict(), "views": views, "split": {"validation": validation, "test": test,
                                                                   "seed": split_seed},
            "target": {"scale": target.scale, "window": target.window, "max_distance": target.max_distance},
            "label_train_packages": list(LABEL_TRAIN_PACKAGES), "heldout_packages": list(HELDOUT_PACKAGES),
            "report": report, "validation": {"names": val_set.names, "groups": val_set.groups},
            "heldout": {"names": test_set.names, "groups": test_set.groups}, "train": {"names": train_set.names}}
    from latentstudio.train.distributed import launched_rank

    # torchrun: only rank 0 writes the model, so only it looks at the reference pictures
    ref_logits, ref_skipped = sd.reference_logits(ref_images if launched_rank() == 0 else [], teacher,
                                                  progress=reference_progress)
    refs = np.concatenate([train_set.distributions(temperature=config.temperature, view=0),
                           softmax(ref_logits, temperature=config.temperature)]).astype(np.float32)
    report["reference_queries"] = {"source": reference, "training_images": len(train_set),
                                   "pictures": len(ref_logits), "skipped": [[p, r] for p, r in ref_skipped]}
    meta["reference"] = reference
    model.reference = refs
    return TrainRun(model=model, result=result, report=report, meta=meta, reference=refs)


def train_from_source(data: str, output: str | os.PathLike, *, steps: int = 800, batch_size: int = 32,
                      lr: float = 3e-3, temperature: float = 2.0, contrastive: float = 1.0,
                      labels: bool = True, label_weight: float = 1.0, views: int = 16,
                      validation: float = 0.2, holdout: float = 0.25, split_seed: int = 0, teacher: str = "efficientnet_lite0", head_init: str = "teacher",
                      teacher_views: str | None = None, reference: str = REFERENCE_DEFAULT,
                      checkpoint_every: int = 250, resume: bool = True, seed: int = 0,
                      progress: Callable[[int, int, float], None] | None = None,
                      bank_progress: Callable[[int, int], None] | None = None,
                      pair_progress: Callable[[int, int], None] | None = None,
                      reference_progress: Callable[[int, int], None] | None = None) -> TrainRun:
    """Train a student from ``data`` and write it to ``output``, end to end.

    Builds the :class:`~.training.DistillConfig` from the options, runs :func:`train_soundscape` with
    interim checkpoints in ``output/.checkpoints`` (a rerun with ``resume`` continues), saves the model with
    the command that reproduces it and its seed in the meta, writes the provenance sidecar of
    ``model.safetensors`` (with the report) and removes the interim checkpoints.

    Parameters
    ----------
    data : ``"tuxpaint"``, a folder of videos, or a .csv/.json manifest of image,sound pairs
    steps, batch_size, lr, temperature, seed : optimisation and the teacher's softmax temperature
    contrastive : weight of the InfoNCE term (0 = KL only)
    labels, label_weight : also learn from the installed library's labelled sounds, with this weight
    views : augmented image views per pair shown to the teacher
    validation, holdout, split_seed : fractions of sound groups for validation and testing, and their split
    teacher, head_init : zoo classifier as teacher; ``"teacher"`` or ``"random"`` start of the class vectors
    teacher_views : how the teacher looks at pictures (:data:`~.teacher.VIEWS`; None: the config's default),
        kept with the model
    reference : ``"tuxpaint"``, ``"none"`` or a folder of pictures: the reference queries of hubness besides
        the training images (:func:`reference_images`)
    checkpoint_every, resume : interim checkpoints
    progress, bank_progress, pair_progress, reference_progress : ``(step, total, loss)``, then ``(done, total)``

    Returns
    -------
    TrainRun : with ``report["seconds"]`` (the whole run)

    Raises
    ------
    ParameterError : missing data, bad options, fewer than 2 usable pairs
    """
    from latentstudio.provenance import write_sidecar

    t0 = time.perf_counter()
    teacher_views = DistillConfig.teacher_views if teacher_views is None else teacher_views
    if data != "tuxpaint" and not Path(data).exists():
        raise ParameterError(f"DATA {data!r} does not exist")
    config = DistillConfig(steps=steps, batch_size=batch_size, lr=lr, seed=seed, temperature=temperature,
                           contrastive_weight=contrastive, teacher=teacher, head_init=head_init,
                           teacher_views=teacher_views, label_weight=label_weight if labels else 0.0).validate()
    for name, value in (("validation", validation), ("holdout", holdout)):
        if not 0 <= value < 1:
            raise ParameterError(f"{name}={value} must be a fraction in [0, 1)")
    if not validation + holdout < 1:
        raise ParameterError(f"validation={validation} and holdout={holdout} leave nothing to train on")
    out = Path(output)
    ckpt = out / ".checkpoints"
    run = train_soundscape(data, config=config, views=views, validation=validation, test=holdout,
                           split_seed=split_seed, labels=labels, reference=reference, checkpoint_dir=ckpt,
                           checkpoint_every=checkpoint_every, resume=resume, progress=progress,
                           bank_progress=bank_progress, pair_progress=pair_progress,
                           reference_progress=reference_progress)
    run.meta["command"] = (f"latentstudio soundscape train {data} --steps {steps} --batch-size {batch_size} "
                           f"--lr {lr} --temperature {temperature} --contrastive {contrastive} "
                           f"--{'' if labels else 'no-'}labels --label-weight {label_weight} --views {views} "
                           f"--validation {validation} --holdout {holdout} --split-seed {split_seed} "
                           f"--teacher {teacher} --teacher-views {teacher_views} --head-init {head_init} "
                           f"--reference {reference} --seed {seed}")
    run.meta["seed"] = seed
    from latentstudio.train.distributed import launched_rank

    if launched_rank() != 0:    # torchrun: rank 0 writes; the other ranks hold the same weights
        return run
    run.save(out)
    run.report["seconds"] = round(time.perf_counter() - t0, 1)
    write_sidecar(out / "model.safetensors", command="soundscape train", seed=seed,
                  params={"data": data, "steps": steps, "batch_size": batch_size, "lr": lr,
                          "temperature": temperature, "contrastive": contrastive, "labels": labels,
                          "label_weight": label_weight, "views": views, "validation": validation,
                          "holdout": holdout, "split_seed": split_seed, "teacher": teacher,
                          "teacher_views": teacher_views, "head_init": head_init, "reference": reference}, models=[teacher], report=run.report)
    shutil.rmtree(ckpt, ignore_errors=True)
    return run


# -------------------------------------------------------------------------------------------- explorer
def source_sounds(source: str = "tuxpaint") -> list[Path]:
    """Sound files to index: ``"tuxpaint"`` (the Tux Paint stamps' own sounds) or a folder (recursive).

    Raises
    ------
    ParameterError : a missing folder, or one without audio files
    """
    from latentstudio.soundscape.index import sound_files

    if source == "tuxpaint":
        from latentstudio import assets

        return [Path(s.sound) for s in assets.tuxpaint_stamps(with_sound=True)]
    files = sound_files(source)
    if not files:
        raise ParameterError(f"sound folder {source!r} holds no audio files")
    return files


@dataclass
class Soundscape:
    """A picture's sounds (the :class:`~.query.QueryResult`) layered into stereo ``audio`` ``(2, n)``."""

    query: object
    audio: np.ndarray = field(repr=False)
    sr: int = 44100
    model_id: str = ""
    seed: int = 0

    def save(self, output, *, params: dict | None = None, command: str = "soundscape render") -> Path:
        """Write the audio (.wav/.flac/.ogg) and its provenance sidecar (with the matches); returns the path."""
        from latentstudio.core.audio import save
        from latentstudio.provenance import write_sidecar

        out = save(output, self.audio, self.sr)
        write_sidecar(out, command=command, seed=self.seed, params=params,
                      models=[f"soundscape_student:{self.model_id}"], result=self.query.to_dict())
        return out


def soundscape_for_image(image: np.ndarray, *, model, model_id: str, catalog, top: int = 5,
                         headings: int | None = None, seconds: float = 30.0, sr: int = 44100, seed: int = 0,
                         teacher: Teacher | None = None) -> Soundscape:
    """Rank the catalog's sounds for ``image`` (:func:`~.query.query_image`) and layer the ``top`` ones into a
    ``seconds`` long stereo soundscape (:func:`~.render.render_soundscape`: loops, levels by score, a wide
    image's headings panned); ``seed`` seeds event times and the stereo spread.

    Raises
    ------
    ParameterError : bad image, ``top``, ``seconds`` or ``sr``; an empty library
    """
    from latentstudio.core.audio import check_sample_rate
    from latentstudio.soundscape.query import query_image
    from latentstudio.soundscape.render import layers_from_matches, render_soundscape

    check_sample_rate(sr)     # 0 was refused as "none of the matched sounds could be read", 1 Hz was rendered
    result = query_image(image, model=model, model_id=model_id, catalog=catalog, teacher=teacher, top=top,
                         headings=headings)
    mix = render_soundscape(layers_from_matches(result.matches, sr=sr), seconds=seconds, sr=sr, seed=seed)
    return Soundscape(query=result, audio=mix, sr=sr, model_id=model_id, seed=seed)


__all__ = ["train_from_source", "source_sounds", "Soundscape", "soundscape_for_image", "train_soundscape",
           "load_pairs", "load_labels", "TrainRun", "LABEL_TRAIN_PACKAGES", "HELDOUT_PACKAGES"]
