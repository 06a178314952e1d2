"""Where batches come from: a torch Dataset in seeded epochs, or a ``make_batch(step, generator)``.

Both are pure functions of ``(seed, step, rank)``, which is what lets a resumed run draw exactly
the batches an uninterrupted run would have drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from latentstudio.errors import ParameterError


def step_seed(seed: int, step: int, rank: int = 0, *, stream: int = 0) -> int:
    """A 63-bit seed derived from (seed, step, rank, stream) by numpy's SeedSequence."""
    state = np.random.SeedSequence([int(seed), int(step), int(rank), int(stream)]).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)


def step_generator(seed: int, step: int, rank: int = 0) -> torch.Generator:
    """The CPU generator handed to ``make_batch`` at ``step`` on ``rank``."""
    return torch.Generator().manual_seed(step_seed(seed, step, rank, stream=1))


class StepBatchSampler(Sampler[list[int]]):
    """Index batches for steps ``start_step .. steps - 1`` of one rank.

    Each epoch is a :class:`~torch.utils.data.DistributedSampler` permutation seeded by ``seed`` and
    the epoch number (one rank = the whole permutation); full batches only. Step ``s`` always gets
    the same indices, so a run can start at any step.
    """

    def __init__(self, n_items: int, *, batch_size: int, steps: int, start_step: int, seed: int,
                 rank: int = 0, world_size: int = 1):
        self.sampler = DistributedSampler(range(n_items), num_replicas=world_size, rank=rank, shuffle=True,
                                          seed=seed, drop_last=True)
        self.batch_size = batch_size
        self.per_epoch = self.sampler.num_samples // batch_size
        if self.per_epoch == 0:
            raise ParameterError(f"data has {n_items} items, fewer than batch_size={batch_size} x "
                                 f"{world_size} process(es)")
        self.steps, self.start_step = steps, start_step
        self._epoch, self._indices = -1, []

    def _epoch_indices(self, epoch: int) -> list[int]:
        if epoch != self._epoch:
            self.sampler.set_epoch(epoch)
            self._epoch, self._indices = epoch, list(iter(self.sampler))
        return self._indices

    def batch_indices(self, step: int) -> list[int]:
        epoch, j = divmod(step, self.per_epoch)
        return self._epoch_indices(epoch)[j * self.batch_size:(j + 1) * self.batch_size]

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start_step, self.steps):
            yield self.batch_indices(step)

    def __len__(self) -> int:
        return max(0, self.steps - self.start_step)


def batches(data: Dataset | Callable[[int, torch.Generator], Any], *, batch_size: int, steps: int,
            start_step: int, seed: int, rank: int = 0, world_size: int = 1,
            num_workers: int = 0) -> Iterator[Any]:
    """Yield the batch of every step from ``start_step`` to ``steps - 1`` for this rank."""
    if callable(data) and not isinstance(data, Dataset):
        for step in range(start_step, steps):
            yield data(step, step_generator(seed, step, rank))
        return
    if not (hasattr(data, "__len__") and hasattr(data, "__getitem__")):
        raise ParameterError(f"data must be a map-style torch Dataset (with __len__ and __getitem__) or a "
                             f"callable make_batch(step, generator), got {type(data).__name__}")
    n = len(data)
    if n == 0:
        raise ParameterError("data is an empty Dataset (0 items)")
    sampler = StepBatchSampler(n, batch_size=batch_size, steps=steps, start_step=start_step, seed=seed,
                               rank=rank, world_size=world_size)
    # DataLoader draws its workers' base seed from this generator, not from torch's global RNG
    # (which the loop re-seeds per step for dropout and friends)
    loader_rng = torch.Generator().manual_seed(step_seed(seed, start_step, rank, stream=2))
    yield from DataLoader(data, batch_sampler=sampler, num_workers=num_workers, generator=loader_rng)


def to_device(batch: Any, device: torch.device) -> Any:
    """Move every tensor inside a batch (tensor, tuple, list, dict) to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        moved = [to_device(v, device) for v in batch]
        return type(batch)(*moved) if hasattr(batch, "_fields") else type(batch)(moved)
    return batch
