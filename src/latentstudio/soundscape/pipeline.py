"""One training run of the soundscape student, end to end (the CLI and the bench both call this).

1. pairs: Tux Paint stamps with their own sound (or a manifest, or videos), their teacher views cached;
2. split by decoded sound content into train / validation / test (:func:`~.data.split_three`,
   ``split_seed`` fixed so that every training seed sees the same held-out pairs);
3. labels: the library sounds of :data:`LABEL_TRAIN_PACKAGES` whose WordNet label gives a target
   (:mod:`.targets`); sounds of the held-out pairs are excluded by decoded-audio hash, and the packages of
   :data:`HELDOUT_PACKAGES` are never trained on (they are the unseen origin of the evaluation);
4. distillation (:func:`~.training.train_student`), then recall on the *validation* pairs (the test
   pairs are read by ``bench/soundscape.py`` only);
5. the teacher distributions of the training images are kept with the model as the *reference queries*
   against which a sound's hubness is measured (CSLS, :func:`~.index.hub_scores`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentstudio.errors import ParameterError
from latentstudio.soundscape import data as sd
from latentstudio.soundscape.evaluate import chance_recall, heldout_recall
from latentstudio.soundscape.features import MelSpec
from latentstudio.soundscape.targets import TargetConfig, library_labels
from latentstudio.soundscape.teacher import Teacher
from latentstudio.soundscape.training import DistillConfig, train_student

#: Library packages whose labelled sounds the student learns from.
LABEL_TRAIN_PACKAGES = ("wesnoth-1.16-data", "supertux-data", "warzone2100-data", "sonic-pi-samples",
                        "sound-theme-freedesktop")
#: Library packages never trained on: the unseen origin of the evaluation.
HELDOUT_PACKAGES = ("openttd-opensfx",)


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
                     target: TargetConfig = TargetConfig(), checkpoint_dir=None, checkpoint_every: int = 250,
                     resume: bool = True, progress=None, bank_progress=None, pair_progress=None) -> TrainRun:
    """Load pairs (and labels), split, distil, and measure validation recall; see the module docstring.

    Raises
    ------
    ParameterError : unusable data (fewer than 2 pairs), bad fractions or views
    """
    config.validate()
    if views < 1:
        raise ParameterError(f"views={views} must be >= 1")
    spec = MelSpec(**config.mel)
    teacher = Teacher(config.teacher, temperature=config.temperature)
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
    reference = train_set.distributions(temperature=config.temperature, view=0).astype(np.float32)
    model.reference = reference
    return TrainRun(model=model, result=result, report=report, meta=meta, reference=reference)


__all__ = ["train_soundscape", "load_pairs", "load_labels", "TrainRun", "LABEL_TRAIN_PACKAGES",
           "HELDOUT_PACKAGES"]
