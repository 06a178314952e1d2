"""torchrun support: detect the process group from the environment and set it up.

``torchrun --nproc_per_node=N script.py`` sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``; the
training loop then initialises the process group itself (NCCL on GPUs, gloo on CPU), wraps the
model in DistributedDataParallel and lets rank 0 write checkpoints. Without those variables
everything runs in one process on the same code path (world size 1).
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass

import torch

from latentstudio.errors import ParameterError


@dataclass
class DistInfo:
    """Where this process sits: ``rank`` of ``world_size``, on ``device``."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    owns_group: bool = False  # True when this module initialised the process group

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ParameterError(f"environment variable {name}={raw!r} must be an integer") from None


def _pick_device(device: str, local_rank: int) -> torch.device:
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ParameterError(f"device={device!r} but CUDA is not available")
        return torch.device(device if ":" in device else f"cuda:{local_rank}")
    return torch.device("cpu")


def setup(device: str = "cpu") -> DistInfo:
    """Read ``WORLD_SIZE``/``RANK``/``LOCAL_RANK`` and join the process group when world size > 1.

    Uses an existing process group if the caller already made one.
    """
    import torch.distributed as dist

    world = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", rank)
    if world < 1 or not 0 <= rank < world:
        raise ParameterError(f"RANK={rank} and WORLD_SIZE={world} do not describe a valid process group")
    dev = _pick_device(device, local_rank)
    if world == 1:
        return DistInfo(device=dev)
    if not dist.is_available():
        raise ParameterError(f"WORLD_SIZE={world} but this torch build has no torch.distributed")
    owns = False
    if not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
        # the group lives as long as the process: a second fit in it (an ensemble's members, a VAE then its
        # vocoder) reuses it. Destroying and re-creating it on torchrun's store let a rank pair with the
        # first group's stale keys and pass while the other waited for ever.
        atexit.register(_destroy_group)
        owns = True
    return DistInfo(rank=dist.get_rank(), world_size=dist.get_world_size(), local_rank=local_rank,
                    device=dev, owns_group=owns)


def launched_rank() -> int:
    """This process's rank as torchrun launched it (``RANK``; 0 without torchrun). Still right after
    :func:`teardown`, when code that runs after training decides which rank writes its results."""
    return _env_int("RANK", 0)


def _destroy_group() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def teardown(info: DistInfo) -> None:
    """End of one training run: every rank waits for the others. The process group :func:`setup` created
    stays for the next run in this process and goes when the process exits."""
    barrier(info)


def barrier(info: DistInfo) -> None:
    """Wait for every rank (no-op in one process)."""
    if info.distributed:
        import torch.distributed as dist

        dist.barrier()


def mean_over_ranks(values: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Average a tensor over all ranks (identity in one process)."""
    if not info.distributed:
        return values
    import torch.distributed as dist

    values = values.clone()
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values / info.world_size
