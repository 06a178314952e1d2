"""The training loop: one seeded, resumable loop for one process or many (torchrun + DDP)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from latentstudio.errors import ModelError, ParameterError
from latentstudio.train.config import TrainConfig, TrainResult, learning_rate
from latentstudio.train.data import batches, step_seed, to_device
from latentstudio.train.distributed import DistInfo, barrier, mean_over_ranks, setup, teardown
from latentstudio.train.state import (latest_checkpoint, load_training_checkpoint, remove_partial,
                                      save_training_checkpoint)
from latentstudio.zoo.checkpoint import registered_models

log = logging.getLogger("latentstudio.train")

#: ``progress(step, total, loss)``: steps done so far, the total, the mean loss since the last call.
ProgressFn = Callable[[int, int, float], None]
#: Fields of :class:`TrainConfig` that must match for a resume to continue the same run.
_RESUME_KEYS = ("seed", "batch_size")


def _split_output(out: Any, step: int) -> tuple[torch.Tensor, dict[str, float]]:
    metrics: dict[str, Any] = {}
    if isinstance(out, tuple):
        if len(out) != 2 or not isinstance(out[1], dict):
            raise ParameterError(f"loss_fn must return a loss tensor or (loss, metrics dict); "
                                 f"got a tuple of {len(out)} at step {step}")
        out, metrics = out
    if not isinstance(out, torch.Tensor) or out.numel() != 1 or not out.requires_grad:
        raise ParameterError(f"loss_fn must return a scalar tensor that requires grad; got "
                             f"{type(out).__name__} {tuple(getattr(out, 'shape', ()))} at step {step}")
    return out.reshape(()), {str(k): float(v) for k, v in metrics.items()}


def _resume(cfg: TrainConfig, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
            info: DistInfo) -> tuple[int, list[float], dict[str, list[float]]]:
    if cfg.checkpoint_dir is None or not cfg.resume:
        return 0, [], {}
    last = latest_checkpoint(cfg.checkpoint_dir)
    if last is None:
        return 0, [], {}
    train = load_training_checkpoint(last, model, optimizer)
    saved = train.get("config", {})
    for key in _RESUME_KEYS:
        if key in saved and saved[key] != getattr(cfg, key):
            raise ParameterError(f"checkpoint {str(last)!r} was trained with {key}={saved[key]!r}, not "
                                 f"{getattr(cfg, key)!r}; pass resume=False or another checkpoint_dir")
    step = int(train["step"])
    losses = [float(x) for x in train.get("losses", [])][:step]
    metrics = {k: [float(x) for x in v][:step] for k, v in (train.get("metrics") or {}).items()}
    if info.is_main:
        log.info("resuming from %s (step %d)", last, step)
    return step, losses, metrics


def fit(model: torch.nn.Module, *, data, loss_fn: Callable[[torch.nn.Module, Any], Any],
        config: TrainConfig, progress: ProgressFn | None = None) -> TrainResult:
    """Train ``model`` in place with AdamW and return the loss history.

    One code path for one process and for ``torchrun --nproc_per_node=N``: when ``WORLD_SIZE`` > 1
    the process group is initialised here (gloo on CPU, NCCL on GPU), the model is wrapped in
    DistributedDataParallel, every rank draws its own batches, losses are averaged over ranks and
    rank 0 writes the checkpoints.

    Parameters
    ----------
    model : the module to train (moved to ``config.device``, left in train mode)
    data : a map-style ``torch.utils.data.Dataset`` (batches of ``config.batch_size`` in seeded
        epochs, split across ranks like ``DistributedSampler``) or a callable
        ``make_batch(step, generator) -> batch`` for on-the-fly data (``generator`` is a
        ``torch.Generator`` seeded from ``config.seed``, the step and the rank)
    loss_fn : ``loss_fn(model, batch) -> loss`` or ``-> (loss, {"name": value})``; under torchrun
        ``model`` is the DDP wrapper, so call it (not ``model.module``) to get synchronised gradients
    config : :class:`TrainConfig`
    progress : optional ``progress(step, total, loss)`` called every ``config.log_every`` steps on
        rank 0 (the CLI drives a progress bar with it)

    Returns
    -------
    TrainResult : per-step losses and metrics from step 0, the newest checkpoint folder, timing

    Raises
    ------
    ParameterError : bad config, data, loss_fn output, or a checkpoint from a different run
    ModelError : the loss became NaN or infinite

    Notes
    -----
    Batches, ``make_batch`` generators and torch's global RNG (dropout) are re-seeded from
    ``(seed, step, rank)`` at every step inside ``torch.random.fork_rng``, and the learning rate is a
    function of the step, so resuming from a checkpoint reproduces the losses of an uninterrupted
    run exactly (randomness inside a Dataset's ``__getitem__`` is exact only with ``num_workers=0``).
    The caller's RNG state is left untouched.

    Example
    -------
    >>> import torch
    >>> from latentstudio.train import TrainConfig, fit
    >>> net = torch.nn.Linear(2, 1)
    >>> def make_batch(step, generator):
    ...     x = torch.randn(16, 2, generator=generator)
    ...     return x, x.sum(dim=1, keepdim=True)
    >>> def loss_fn(model, batch):
    ...     x, y = batch
    ...     return torch.nn.functional.mse_loss(model(x), y)
    >>> result = fit(net, data=make_batch, loss_fn=loss_fn, config=TrainConfig(steps=200, lr=0.05))
    >>> result.losses[-1] < 0.1 * result.losses[0]
    True
    """
    if not isinstance(config, TrainConfig):
        raise ParameterError(f"config must be a TrainConfig, got {type(config).__name__}")
    config.validate()
    if not isinstance(model, torch.nn.Module):
        raise ParameterError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not any(p.requires_grad for p in model.parameters()):
        raise ParameterError(f"model {type(model).__name__} has no trainable parameters")
    if config.checkpoint_dir is not None and type(model) not in registered_models().values():
        raise ParameterError(f"model {type(model).__name__} cannot be checkpointed: decorate its class with "
                             f"@latentstudio.zoo.checkpoint.register_model(name), or pass checkpoint_dir=None")
    if not callable(loss_fn):
        raise ParameterError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if progress is not None and not callable(progress):
        raise ParameterError(f"progress must be callable or None, got {type(progress).__name__}")
    info = setup(config.device)
    result = _fit(model, data=data, loss_fn=loss_fn, cfg=config, progress=progress, info=info)
    # every rank has finished its last collective before any leaves: a rank that left first made gloo abort
    # the other ("terminate called without an active exception") under load
    teardown(info)
    return result


def _fit(model: torch.nn.Module, *, data, loss_fn, cfg: TrainConfig, progress: ProgressFn | None,
         info: DistInfo) -> TrainResult:
    t0 = time.perf_counter()
    device = info.device
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay,
                                  betas=(float(cfg.betas[0]), float(cfg.betas[1])))
    start, losses, metrics = _resume(cfg, model, optimizer, info)
    ckpt_root = Path(cfg.checkpoint_dir) if cfg.checkpoint_dir is not None else None
    if ckpt_root is not None and info.is_main:
        remove_partial(ckpt_root)
    last_ckpt = latest_checkpoint(ckpt_root) if ckpt_root is not None and start > 0 else None
    if start >= cfg.steps:
        return TrainResult(losses=losses, metrics=metrics, steps_done=start, checkpoint=last_ckpt,
                           seconds=time.perf_counter() - t0, resumed_from=start, world_size=info.world_size,
                       rank=info.rank)

    net: torch.nn.Module = model
    if info.distributed:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    def save(step_done: int) -> None:
        nonlocal last_ckpt
        if ckpt_root is None:
            return
        if info.is_main:
            record = {"losses": losses, "metrics": metrics, "config": cfg.to_dict(),
                      "world_size": info.world_size, "seconds": time.perf_counter() - t0}
            save_training_checkpoint(ckpt_root, model, optimizer, step=step_done,
                                     model_config=cfg.model_config, progress=record,
                                     keep=cfg.keep_checkpoints)
        barrier(info)
        last_ckpt = latest_checkpoint(ckpt_root)

    rng_devices = [device.index] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=rng_devices):
        stream = batches(data, batch_size=cfg.batch_size, steps=cfg.steps, start_step=start, seed=cfg.seed,
                         rank=info.rank, world_size=info.world_size, num_workers=cfg.num_workers)
        window: list[float] = []
        for step in range(start, cfg.steps):
            torch.manual_seed(step_seed(cfg.seed, step, info.rank))
            batch = to_device(next(stream), device)
            lr = learning_rate(step, cfg)
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss, step_metrics = _split_output(loss_fn(net, batch), step)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            names = sorted(step_metrics)
            values = torch.tensor([float(loss.detach())] + [step_metrics[k] for k in names], dtype=torch.float64)
            values = mean_over_ranks(values.to(device), info).cpu()
            if not math.isfinite(float(values[0])):
                raise ModelError(f"loss became {float(values[0])} at step {step} (lr={lr:g}); "
                                 f"lower lr or set grad_clip")
            optimizer.step()
            losses.append(float(values[0]))
            for k, v in zip(names, values[1:].tolist()):
                metrics.setdefault(k, []).append(v)
            window.append(losses[-1])
            done = step + 1
            if done % cfg.log_every == 0 or done == cfg.steps:
                mean = sum(window) / len(window)
                window.clear()
                if info.is_main:
                    log.info("step %d/%d loss %.5g lr %.3g", done, cfg.steps, mean, lr)
                    if progress is not None:
                        progress(done, cfg.steps, mean)
            if done == cfg.steps or (cfg.checkpoint_every and done % cfg.checkpoint_every == 0):
                save(done)
    return TrainResult(losses=losses, metrics=metrics, steps_done=cfg.steps, checkpoint=last_ckpt,
                       seconds=time.perf_counter() - t0, resumed_from=start, world_size=info.world_size,
                       rank=info.rank)
