"""The training loop's configuration and result dataclasses."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from latentstudio.errors import ParameterError

SCHEDULERS = ("none", "cosine")


@dataclass
class TrainConfig:
    """Everything :func:`latentstudio.train.fit` needs besides the model, data and loss.

    Parameters
    ----------
    steps : optimiser steps in total (a resumed run continues up to this many)
    batch_size : examples per step *per process* (under torchrun each rank draws its own batch)
    lr : peak learning rate of AdamW
    weight_decay : AdamW's decoupled weight decay
    betas : AdamW's moment decay rates; GANs train with a low first one (pix2pix: (0.5, 0.999))
    seed : seeds the batch order, the ``make_batch`` generators and the model's random ops
        (dropout) per step, so a run is reproducible and a resumed run continues exactly
    checkpoint_dir : folder for periodic checkpoints (``step-00000100/`` ...); None = none
    checkpoint_every : steps between checkpoints (a final one is always written); 0 = final only
    keep_checkpoints : how many of the newest checkpoints to keep (older ones are deleted)
    resume : continue from the newest checkpoint in ``checkpoint_dir`` if there is one
    model_config : constructor arguments of the model, saved with each checkpoint so
        :func:`latentstudio.zoo.checkpoint.load_checkpoint` can rebuild it
    grad_clip : clip the global gradient norm to this value; None = no clipping
    log_every : steps between ``progress`` callbacks and log lines
    scheduler : ``"none"`` (constant) or ``"cosine"`` (decay to ``lr * min_lr_ratio``)
    warmup_steps : linear warm-up steps before the schedule
    min_lr_ratio : the cosine schedule's floor as a fraction of ``lr``
    num_workers : DataLoader worker processes when ``data`` is a Dataset
    device : ``"cpu"``, ``"cuda"`` (``cuda:LOCAL_RANK`` under torchrun) or ``"auto"``

    Example
    -------
    >>> cfg = TrainConfig(steps=200, batch_size=32, lr=1e-3, seed=0, checkpoint_dir=None)
    >>> cfg.scheduler
    'none'
    """

    steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    seed: int = 0
    checkpoint_dir: str | os.PathLike | None = None
    checkpoint_every: int = 100
    keep_checkpoints: int = 2
    resume: bool = True
    model_config: dict[str, Any] = field(default_factory=dict)
    grad_clip: float | None = None
    log_every: int = 10
    scheduler: str = "none"
    warmup_steps: int = 0
    min_lr_ratio: float = 0.0
    num_workers: int = 0
    device: str = "cpu"

    def validate(self) -> TrainConfig:
        """Raise :class:`ParameterError` naming the first bad field; return ``self``."""
        def positive_int(name: str, minimum: int = 1) -> None:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                raise ParameterError(f"{name}={value!r} must be an integer >= {minimum}")

        positive_int("steps")
        positive_int("batch_size")
        positive_int("checkpoint_every", 0)
        positive_int("keep_checkpoints")
        positive_int("log_every")
        positive_int("warmup_steps", 0)
        positive_int("num_workers", 0)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ParameterError(f"seed={self.seed!r} must be a non-negative integer")
        for name in ("lr", "weight_decay", "min_lr_ratio"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ParameterError(f"{name}={value!r} must be a finite number >= 0")
        if (not isinstance(self.betas, (tuple, list)) or len(self.betas) != 2
                or not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in self.betas)):
            raise ParameterError(f"betas={self.betas!r} must be two numbers in [0, 1)")
        if self.lr <= 0:
            raise ParameterError(f"lr={self.lr!r} must be positive")
        if self.grad_clip is not None and (not isinstance(self.grad_clip, (int, float)) or self.grad_clip <= 0):
            raise ParameterError(f"grad_clip={self.grad_clip!r} must be positive or None")
        if self.scheduler not in SCHEDULERS:
            raise ParameterError(f"scheduler={self.scheduler!r} must be one of {', '.join(SCHEDULERS)}")
        if self.device not in ("cpu", "cuda", "auto") and not str(self.device).startswith("cuda:"):
            raise ParameterError(f"device={self.device!r} must be 'cpu', 'cuda', 'cuda:N' or 'auto'")
        if not isinstance(self.model_config, dict):
            raise ParameterError(f"model_config must be a dict of constructor arguments, "
                                 f"got {type(self.model_config).__name__}")
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (paths as strings)."""
        d = asdict(self)
        if d["checkpoint_dir"] is not None:
            d["checkpoint_dir"] = os.fspath(d["checkpoint_dir"])
        return d


def learning_rate(step: int, config: TrainConfig) -> float:
    """Learning rate at optimiser step ``step`` (0-based): linear warm-up, then constant or cosine.

    A pure function of the step, so a resumed run needs no scheduler state.
    """
    if config.warmup_steps and step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    if config.scheduler == "none":
        return config.lr
    span = max(1, config.steps - config.warmup_steps)
    t = min(1.0, (step - config.warmup_steps) / span)
    floor = config.lr * config.min_lr_ratio
    return floor + (config.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * t))


@dataclass
class TrainResult:
    """What :func:`latentstudio.train.fit` returns.

    Attributes
    ----------
    losses : loss of every step from step 0 (mean over processes under torchrun), including the
        steps done before a resume
    metrics : extra per-step values returned by ``loss_fn`` (name -> list, aligned with ``losses``)
    steps_done : steps completed in total
    checkpoint : the newest checkpoint folder (loadable with ``load_checkpoint``), or None
    seconds : wall time of this call
    resumed_from : the step this call resumed from (0 for a fresh run)
    world_size : number of processes that trained
    rank : this process's rank among them (0 in one process; under torchrun only rank 0 should write the
        results a caller makes after training: samples, evaluations, the final model)
    """

    losses: list[float]
    metrics: dict[str, list[float]]
    steps_done: int
    checkpoint: Path | None
    seconds: float
    resumed_from: int = 0
    world_size: int = 1
    rank: int = 0
