"""Training checkpoints: model + optimiser state + progress, in zoo checkpoint folders.

A training run's ``checkpoint_dir`` holds ``step-00000100/``, ``step-00000200/`` ... Each is an
ordinary :mod:`latentstudio.zoo.checkpoint` folder (``model.safetensors`` + ``config.json``) that
``load_checkpoint`` rebuilds on its own; the optimiser's tensors ride in the same safetensors file
under ``extra.optim.*`` keys, and the step, the loss history and the optimiser's scalar state go in
``config.json``'s ``meta["train"]``. No pickle anywhere. A folder is written under a temporary
name and renamed into place, so a crash never leaves a half-written ``step-*`` folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from latentstudio.errors import ParameterError
from latentstudio.zoo.checkpoint import load_tensors, read_config, save_checkpoint, split_tensors

_STEP_DIR = re.compile(r"^step-(\d{8,})$")
_OPTIM = "optim."


def step_dir_name(step: int) -> str:
    return f"step-{step:08d}"


def list_checkpoints(checkpoint_dir: str | os.PathLike) -> list[Path]:
    """Complete checkpoint folders of a run, oldest first."""
    d = Path(checkpoint_dir)
    if not d.is_dir():
        return []
    found = []
    for child in d.iterdir():
        m = _STEP_DIR.match(child.name)
        if m and child.is_dir() and (child / "config.json").exists():
            found.append((int(m.group(1)), child))
    return [p for _, p in sorted(found)]


def latest_checkpoint(checkpoint_dir: str | os.PathLike) -> Path | None:
    """The newest complete checkpoint folder of a run, or None.

    Example
    -------
    >>> latest_checkpoint("/nonexistent") is None
    True
    """
    found = list_checkpoints(checkpoint_dir)
    return found[-1] if found else None


def _optimizer_split(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Optimiser state -> (tensors for safetensors, JSON-ready scalars)."""
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, slots in sd["state"].items():
        for name, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{_OPTIM}{idx}.{name}"] = value
            else:
                scalars.setdefault(str(idx), {})[name] = value
    return tensors, scalars


def _optimizer_join(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                    scalars: dict[str, dict[str, Any]]) -> None:
    """Load optimiser state saved by :func:`_optimizer_split` (param groups stay as constructed)."""
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if not key.startswith(_OPTIM):
            continue
        idx, name = key[len(_OPTIM):].split(".", 1)
        state.setdefault(int(idx), {})[name] = value
    for idx, slots in scalars.items():
        state.setdefault(int(idx), {}).update(slots)
    sd = optimizer.state_dict()
    n_params = sum(len(g["params"]) for g in sd["param_groups"])
    if any(i >= n_params for i in state):
        raise ParameterError(f"checkpoint optimiser state has {len(state)} parameters but the model has {n_params}")
    sd["state"] = state
    optimizer.load_state_dict(sd)


def save_training_checkpoint(checkpoint_dir: str | os.PathLike, model: torch.nn.Module,
                             optimizer: torch.optim.Optimizer, *, step: int, model_config: dict[str, Any],
                             progress: dict[str, Any], keep: int) -> Path:
    """Write ``checkpoint_dir/step-NNNNNNNN/`` atomically and delete all but the ``keep`` newest."""
    root = Path(checkpoint_dir)
    root.mkdir(parents=True, exist_ok=True)
    final = root / step_dir_name(step)
    tensors, scalars = _optimizer_split(optimizer)
    meta = {"train": dict(progress, step=step, optimizer=type(optimizer).__name__, optimizer_scalars=scalars)}
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".part", dir=root))
    try:
        save_checkpoint(tmp, model, config=model_config, meta=meta, extra_tensors=tensors)
        if final.exists():  # a rerun of the same step: replace it
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in list_checkpoints(root)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_training_checkpoint(directory: str | os.PathLike, model: torch.nn.Module,
                             optimizer: torch.optim.Optimizer | None = None) -> dict[str, Any]:
    """Load weights (and optimiser state) from a training checkpoint into existing objects.

    Returns the ``meta["train"]`` record (``step``, ``losses``, ``metrics``, ``seed`` ...).
    """
    record = read_config(directory)
    train = (record.get("meta") or {}).get("train")
    if not isinstance(train, dict) or "step" not in train:
        raise ParameterError(f"checkpoint {str(directory)!r} is not a training checkpoint (no meta.train.step)")
    weights, extra = split_tensors(load_tensors(directory))
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise ParameterError(f"checkpoint {str(directory)!r} does not fit the model ({first})") from None
    if optimizer is not None:
        _optimizer_join(optimizer, extra, train.get("optimizer_scalars") or {})
    return train


def remove_partial(checkpoint_dir: str | os.PathLike) -> None:
    """Delete temporary folders a crashed run left behind."""
    d = Path(checkpoint_dir)
    if d.is_dir():
        for child in d.glob(".step-*.part"):
            with contextlib.suppress(OSError):
                shutil.rmtree(child)
