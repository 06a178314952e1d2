"""Distillation: the student learns to hear what the teacher sees.

Loss per batch = ``KL(teacher || student)`` (the teacher's distribution at ``temperature`` over a
random view of the image, the student's softmax over a heavily augmented version of the sound)
+ ``contrastive_weight`` x a symmetric InfoNCE term that pulls each sound's embedding towards its
own image's query vector (``normalize(p @ W)``, see :mod:`.student`) and away from the other images
of the batch. The loop itself is :func:`latentstudio.train.fit` (seeded, checkpoints, resume).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from latentstudio.errors import ParameterError
from latentstudio.soundscape.augment import augment_spectrograms, augment_waveforms, crop_or_place, varispeed
from latentstudio.soundscape.data import LabelSet, PairSet
from latentstudio.soundscape.features import MelSpec, normalized_log_mel
from latentstudio.soundscape.student import SoundscapeStudent
from latentstudio.soundscape.teacher import softmax
from latentstudio.train import TrainConfig, TrainResult, fit


@dataclass
class DistillConfig:
    """Settings of a distillation run (saved in the checkpoint's meta).

    Parameters
    ----------
    steps, batch_size, lr, weight_decay, seed : optimisation (AdamW, cosine schedule)
    temperature : teacher softmax temperature
    contrastive_weight : weight of the InfoNCE term (0 = pure KL, as in SoundNet)
    contrastive_temperature : InfoNCE logit scale is 1 / this
    channels, embedding_dim, dropout : student architecture
    bank_size : augmented variants of each sound precomputed as log-mels
    label_weight : weight of the KL term on labelled library sounds (their targets from WordNet, see
        :mod:`.targets`); 0 = pairs only
    label_fraction : share of each batch drawn from the labelled sounds (when there are any)
    label_bank_size : augmented variants of each labelled sound
    head_init : ``"random"`` or ``"teacher"``: start the head's class vectors from the teacher's own
        classifier weights (PCA to ``embedding_dim``), so related classes start close together
    freeze_head : keep the head fixed (the student then learns to hear into the teacher's class geometry)
    mel : front-end settings (:class:`MelSpec` fields)
    teacher : zoo classifier name
    teacher_views : how the teacher looks at a picture (:data:`~.teacher.VIEWS`); kept with the model so its
        queries see pictures as its training did. ``"crop+whole"`` chosen on validation (3 seeds, 32 pictures
        without sound): the right kind of sound in the top 5 for 22 of 32 on every seed against 19 with the
        centre crop alone (a cartoon sedan was a can opener to the crop); validation pair recall@10
        0.83 / 0.88 / 0.92 against 0.92 / 0.92 / 0.88 (one pair of 24 either way)
    """

    steps: int = 800
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-2
    seed: int = 0
    temperature: float = 2.0
    contrastive_weight: float = 1.0
    contrastive_temperature: float = 0.1
    channels: tuple[int, ...] = (16, 32, 64, 128)
    embedding_dim: int = 64
    dropout: float = 0.3
    bank_size: int = 16
    label_weight: float = 1.0
    label_fraction: float = 0.5
    label_bank_size: int = 4
    head_init: str = "teacher"
    freeze_head: bool = False
    mel: dict = field(default_factory=lambda: MelSpec().to_dict())
    teacher: str = "efficientnet_lite0"
    teacher_views: str = "crop+whole"

    def validate(self) -> DistillConfig:
        import math

        for name in ("lr", "temperature", "contrastive_weight", "contrastive_temperature", "label_weight"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ParameterError(f"{name}={value!r} must be a finite number")
        if not self.lr > 0:
            raise ParameterError(f"lr={self.lr!r} must be positive")
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ParameterError(f"steps={self.steps!r} must be an integer >= 1")
        if not isinstance(self.temperature, (int, float)) or self.temperature <= 0:
            raise ParameterError(f"temperature={self.temperature!r} must be positive")
        if not isinstance(self.contrastive_weight, (int, float)) or self.contrastive_weight < 0:
            raise ParameterError(f"contrastive_weight={self.contrastive_weight!r} must be >= 0")
        if self.contrastive_temperature <= 0:
            raise ParameterError(f"contrastive_temperature={self.contrastive_temperature!r} must be positive")
        if not isinstance(self.batch_size, int) or self.batch_size < 2:
            raise ParameterError(f"batch_size={self.batch_size!r} must be an integer >= 2")
        if not isinstance(self.label_weight, (int, float)) or self.label_weight < 0:
            raise ParameterError(f"label_weight={self.label_weight!r} must be >= 0")
        if not 0.0 <= self.label_fraction < 1.0:
            raise ParameterError(f"label_fraction={self.label_fraction!r} must be in [0, 1)")
        if self.head_init not in ("random", "teacher"):
            raise ParameterError(f"head_init={self.head_init!r} must be 'random' or 'teacher'")
        from latentstudio.soundscape.teacher import check_views

        check_views(self.teacher_views, name="teacher_views")
        MelSpec(**self.mel)
        return self

    def model_config(self, num_classes: int) -> dict[str, Any]:
        return {"channels": list(self.channels), "embedding_dim": self.embedding_dim, "num_classes": num_classes,
                "dropout": self.dropout, "mel": dict(self.mel), "teacher": self.teacher,
                "temperature": float(self.temperature), "teacher_views": self.teacher_views}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d


class DistillBatches:
    """``make_batch(step, generator)`` for :func:`latentstudio.train.fit` over pairs and labelled sounds.

    Waveform augmentation is the expensive part, so it is done once: each item gets a bank of
    ``bank_size`` variants (varispeeded, cropped or placed in a window, mixed with noise and with
    another item's sound at a low level) turned into log-mels. Each batch then draws distinct items,
    a random variant of each (augmented again on the spectrogram: stretch, mel shift, tilt, masks)
    and a random view's teacher distribution. With ``labels`` (a :class:`LabelSet`), a share
    ``label_fraction`` of every batch are labelled sounds whose target is their WordNet distribution.
    The bank is a pure function of ``seed``.
    """

    def __init__(self, pairs: PairSet, *, spec: MelSpec, temperature: float, batch_size: int, seed: int = 0,
                 bank_size: int = 16, varispeed_range: tuple[float, float] = (0.85, 1.18),
                 progress=None, labels: LabelSet | None = None, label_fraction: float = 0.5,
                 label_bank_size: int = 4) -> None:
        if len(pairs) < 2:
            raise ParameterError(f"training needs at least 2 pairs, got {len(pairs)}")
        if not isinstance(bank_size, int) or bank_size < 1:
            raise ParameterError(f"bank_size={bank_size!r} must be a positive integer")
        self.spec = spec
        self.labels = labels if labels is not None and len(labels) >= 2 else None
        n_lab = int(round(batch_size * label_fraction)) if self.labels is not None else 0
        self.n_pairs = min(batch_size - n_lab, len(pairs))
        self.n_labels = min(n_lab, len(self.labels)) if self.labels is not None else 0
        self.batch_size = self.n_pairs + self.n_labels
        self.targets = [torch.from_numpy(softmax(lg, temperature=temperature)) for lg in pairs.logits]
        groups = list(pairs.groups) + (["label:" + g for g in self.labels.groups] if self.labels else [])
        _, group_ids = np.unique(np.asarray(groups), return_inverse=True)
        self.group_ids = torch.from_numpy(group_ids.astype(np.int64))
        self.varispeed_range = varispeed_range
        self.bank = self._make_bank(pairs.waveforms, bank_size, seed, progress)
        if self.labels is not None:
            self.label_targets = torch.from_numpy(np.asarray(self.labels.targets, dtype=np.float32))
            self.label_bank = self._make_bank(self.labels.waveforms, label_bank_size, seed + 1, progress)

    def _make_bank(self, waveforms, bank_size, seed, progress) -> torch.Tensor:
        g = torch.Generator().manual_seed(int(seed) + 7919)
        n, win = len(waveforms), self.spec.window_samples
        lo, hi = self.varispeed_range
        bank = []
        for i, y in enumerate(waveforms):
            fg, bg = [], []
            for _ in range(bank_size):
                rate = float(lo + (hi - lo) * torch.rand(1, generator=g))
                fg.append(crop_or_place(varispeed(y, rate=rate, sr=self.spec.sr), n=win, generator=g))
                other = int(torch.randint(0, n - 1, (1,), generator=g))
                other = other + (other >= i)
                bg.append(crop_or_place(waveforms[other], n=win, generator=g))
            mixed = augment_waveforms(torch.from_numpy(np.stack(fg)), generator=g,
                                      background=torch.from_numpy(np.stack(bg)))
            mixed[0] = torch.from_numpy(crop_or_place(y, n=win, generator=g))   # one clean variant
            bank.append(normalized_log_mel(mixed, spec=self.spec).half())
            if progress is not None:
                progress(i + 1, n)
        return torch.stack(bank)                                   # (items, bank, n_mels, frames)

    @staticmethod
    def _draw(bank: torch.Tensor, count: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        items = torch.randperm(bank.shape[0], generator=generator)[:count]
        variant = torch.randint(0, bank.shape[1], (len(items),), generator=generator)
        return items, bank[items, variant].float()

    def __call__(self, step: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        items, S = self._draw(self.bank, self.n_pairs, generator)
        targets = []
        for i in items.tolist():
            views = self.targets[i]
            targets.append(views[int(torch.randint(0, views.shape[0], (1,), generator=generator))])
        target, group = torch.stack(targets), self.group_ids[items]
        is_label = torch.zeros(len(items), dtype=torch.bool)
        if self.n_labels:
            lab, SL = self._draw(self.label_bank, self.n_labels, generator)
            S = torch.cat([S, SL])
            target = torch.cat([target, self.label_targets[lab]])
            group = torch.cat([group, self.group_ids[lab + len(self.targets)]])
            is_label = torch.cat([is_label, torch.ones(len(lab), dtype=torch.bool)])
        S = augment_spectrograms(S, generator=generator)
        return {"spectrogram": S, "target": target, "group": group, "is_label": is_label}


def distill_loss(model, batch: dict[str, torch.Tensor], *, contrastive_weight: float,
                 contrastive_temperature: float, label_weight: float = 1.0,
                 same_target: float = 0.9) -> tuple[torch.Tensor, dict[str, float]]:
    """KL(teacher || student) on pairs + ``label_weight`` x KL on labelled sounds + weighted symmetric InfoNCE.

    In the InfoNCE term a sound is never the negative of another whose target is almost the same
    (cosine of the two distributions above ``same_target``: two wolves, the same sound twice).
    """
    emb, logits = model(batch["spectrogram"])
    target = batch["target"]
    is_label = batch.get("is_label", torch.zeros(len(target), dtype=torch.bool))
    per_item = (target * (torch.log(target.clamp_min(1e-12)) - F.log_softmax(logits, dim=1))).sum(dim=1)
    kl = per_item[~is_label].mean() if (~is_label).any() else per_item.sum() * 0
    loss = kl
    metrics = {"kl": float(kl.detach())}
    if is_label.any():
        kl_label = per_item[is_label].mean()
        loss = loss + label_weight * kl_label
        metrics["kl_label"] = float(kl_label.detach())
    if contrastive_weight > 0:
        head = model.module.head if hasattr(model, "module") else model.head
        a = F.normalize(emb, dim=1)
        q = F.normalize(target @ head.weight, dim=1)
        sim = a @ q.T / contrastive_temperature
        tn = F.normalize(target, dim=1)
        same = (batch["group"][:, None] == batch["group"][None, :]) | (tn @ tn.T > same_target)
        eye = torch.eye(len(a), dtype=torch.bool)
        sim = sim.masked_fill(same & ~eye, float("-inf"))     # a duplicate sound is not a negative
        labels = torch.arange(len(a))
        nce = 0.5 * (F.cross_entropy(sim, labels) + F.cross_entropy(sim.T, labels))
        loss = loss + contrastive_weight * nce
        metrics["nce"] = float(nce.detach())
    return loss, metrics


def teacher_class_vectors(teacher: str, *, dim: int) -> torch.Tensor:
    """The teacher's final-layer class weights projected to ``dim`` by PCA: ``(classes, dim)``, unit RMS norm.

    Classes the teacher confuses (ox, water buffalo, bison) get nearby vectors.
    """
    from latentstudio.zoo import load_classifier

    clf = load_classifier(teacher)
    fc = [m for m in clf.modules() if isinstance(m, torch.nn.Linear)][-1]
    w = fc.weight.detach().double()
    w = w - w.mean(dim=0, keepdim=True)
    u, s, _ = torch.linalg.svd(w, full_matrices=False)
    v = u[:, :dim] * s[:dim]
    v = v / v.norm(dim=1).pow(2).mean().sqrt()
    return v.float()


def train_student(pairs: PairSet, *, config: DistillConfig, checkpoint_dir=None, checkpoint_every: int = 250,
                  resume: bool = True, progress=None, bank_progress=None, labels: LabelSet | None = None,
                  device: str = "cpu") -> tuple[SoundscapeStudent, TrainResult]:
    """Distil the teacher's view of ``pairs`` into a new :class:`SoundscapeStudent`.

    Parameters
    ----------
    pairs : training pairs (already split; every item here is trained on)
    config : :class:`DistillConfig`
    checkpoint_dir, checkpoint_every, resume : periodic checkpoints and resuming (see ``train.fit``)
    progress : ``progress(step, total, loss)`` callback of the loop
    bank_progress : ``bank_progress(done, total)`` while the augmented spectrogram bank is built
    labels : labelled library sounds with WordNet targets (:class:`LabelSet`), learned beside the pairs

    Returns
    -------
    (model, result) : the trained student in eval mode and the loop's :class:`TrainResult`

    Example
    -------
    >>> model, result = train_student(pairs, config=DistillConfig(steps=10))     # doctest: +SKIP
    """
    config.validate()
    spec = MelSpec(**config.mel)
    num_classes = int(pairs.logits[0].shape[1]) if len(pairs) else 1000
    torch.manual_seed(config.seed)
    model = SoundscapeStudent(**config.model_config(num_classes))
    if config.head_init == "teacher":
        with torch.no_grad():
            model.head.weight.copy_(teacher_class_vectors(config.teacher, dim=config.embedding_dim))
            model.head.bias.zero_()
    if config.freeze_head:
        model.head.requires_grad_(False)
    data = DistillBatches(pairs, spec=spec, temperature=config.temperature, batch_size=config.batch_size,
                          seed=config.seed, bank_size=config.bank_size, progress=bank_progress,
                          labels=labels if config.label_weight > 0 else None,
                          label_fraction=config.label_fraction, label_bank_size=config.label_bank_size)
    train_cfg = TrainConfig(steps=config.steps, batch_size=data.batch_size, lr=config.lr,
                            weight_decay=config.weight_decay, seed=config.seed, checkpoint_dir=checkpoint_dir,
                            checkpoint_every=checkpoint_every, resume=resume,
                            model_config=config.model_config(num_classes), grad_clip=5.0, log_every=10,
                            scheduler="cosine", warmup_steps=min(50, config.steps // 10), min_lr_ratio=0.02,
                            device=device)

    def loss_fn(net, batch):
        return distill_loss(net, batch, contrastive_weight=config.contrastive_weight,
                            contrastive_temperature=config.contrastive_temperature,
                            label_weight=config.label_weight)

    result = fit(model, data=data, loss_fn=loss_fn, config=train_cfg, progress=progress)
    return model.eval(), result


__all__ = ["DistillConfig", "DistillBatches", "distill_loss", "train_student", "teacher_class_vectors"]
