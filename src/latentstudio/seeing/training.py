"""Train a Learning-to-See network on one world with the project's training loop.

Every step draws fresh random crops of the world's training photographs and degrades them on the fly
(:func:`.degrade.training_pair`); generator and PatchGAN train together (:class:`.model.SeeingGAN`). Sample
grids of the validation photograph (degraded input | output | target) are written as it trains; a rerun with
the same output folder resumes. The finished model folder holds the generator alone (safetensors + JSON
config with the degradation, the world's photographs and the training command), loadable by
:func:`load_seer_model`.

Example
-------
>>> from latentstudio.seeing.worlds import load_world
>>> run = train_seeing(load_world("flowers"), "out/flowers", steps=1500)      # doctest: +SKIP
>>> run.validation["l1"]                                                       # doctest: +SKIP
0.14
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from latentstudio.core import image as imageio
from latentstudio.errors import ParameterError
from latentstudio.seeing.degrade import Degradation, degrade, photo_tensor, random_crops, training_pair
from latentstudio.seeing.model import GUIDE_NETS, SeeingGAN
from latentstudio.seeing.worlds import WORLD_CLASSES, World
from latentstudio.zoo.labels import class_index
from latentstudio.zoo.checkpoint import load_checkpoint, save_checkpoint

CHECKPOINTS = "checkpoints"
SAMPLES = "samples"
#: Models shipped with the package: ``data/models/seeing_<world>`` (trained by ``latentstudio seeing train``).
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "data" / "models"


def shipped_models() -> dict[str, Path]:
    """World name -> folder of each shipped model."""
    return {p.name[len("seeing_"):]: p for p in sorted(SHIPPED_DIR.glob("seeing_*")) if (p / "config.json").is_file()}


def resolve_model(path: str | os.PathLike) -> Path:
    """A model folder, or the shipped model of a world name (``flowers``, ``water``) when no such folder exists."""
    p = Path(path)
    if not p.exists() and os.fspath(path) in shipped_models():
        return shipped_models()[os.fspath(path)]
    return p


@dataclass
class SeeingTrainResult:
    """What :func:`train_seeing` did.

    Attributes
    ----------
    model_dir : the finished model folder (generator weights + config)
    steps, seconds : optimiser steps done in total, wall time of this call
    losses : the mean loss of the first and last 5 % of steps, and per-term means of the last 5 %
    validation : L1 and edge correlation of the validation photograph's crops (degraded input -> output)
    samples : sample grids written during training
    world : :meth:`World.describe` of the data
    """

    model_dir: Path
    steps: int
    seconds: float
    losses: dict
    validation: dict
    samples: list[Path] = field(default_factory=list)
    world: dict = field(default_factory=dict)
    #: under torchrun, this process's rank: only rank 0 validates and writes the model
    rank: int = 0


def _check(name: str, value, lo, *, integer: bool = True):
    ok = isinstance(value, int) and not isinstance(value, bool) if integer else \
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < lo:
        raise ParameterError(f"{name}={value!r} must be {'an integer' if integer else 'a number'} >= {lo}")


def validation_crops(world: World, *, n: int = 16, size: int = 128, seed: int = 1234) -> torch.Tensor:
    """Fixed seeded crops of the world's validation photographs (of its training ones when it has none)."""
    photos = [photo_tensor(p.pixels) for p in (world.validation or world.train)]
    return random_crops(photos, n, size, torch.Generator().manual_seed(seed), flips=False)


def edge_map(x: torch.Tensor, *, area_factor: float = 24.0) -> torch.Tensor:
    """Sobel gradient magnitude of the luminance at the degradation's scale: ``(N, C, H, W)`` -> ``(N, H, W)``.

    Both pictures of a comparison are seen through the same blur, so the measure asks "do the structures the
    network was shown appear in its output" and ignores the fine texture the network adds.
    """
    from latentstudio.seeing.degrade import down_up, grey

    g = down_up(grey(x), area_factor)
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]).view(1, 1, 3, 3)
    gx = torch.nn.functional.conv2d(g, kx, padding=1)
    gy = torch.nn.functional.conv2d(g, kx.transpose(2, 3), padding=1)
    return torch.sqrt(gx * gx + gy * gy + 1e-12)[:, 0, 2:-2, 2:-2]


def edge_correlation(a: torch.Tensor, b: torch.Tensor, *, area_factor: float = 24.0) -> torch.Tensor:
    """Pearson correlation of the edge maps of two picture batches, one value per pair."""
    ea = edge_map(a, area_factor=area_factor).flatten(1)
    eb = edge_map(b, area_factor=area_factor).flatten(1)
    ea = ea - ea.mean(1, keepdim=True)
    eb = eb - eb.mean(1, keepdim=True)
    return (ea * eb).sum(1) / (ea.norm(dim=1) * eb.norm(dim=1) + 1e-12)


@torch.no_grad()
def validate(generator: torch.nn.Module, crops: torch.Tensor, degradation: Degradation) -> dict:
    """L1 to the targets and input-output edge correlation on validation crops (generator in eval mode)."""
    was = generator.training
    generator.eval()
    out = generator(degrade(crops, degradation))
    generator.train(was)
    return {"l1": float((out - crops).abs().mean()),
            "edge_correlation": float(edge_correlation(crops, out, area_factor=degradation.area_factor).mean())}


def _grid(rows: list[torch.Tensor]) -> np.ndarray:
    """Rows of picture batches (each (N, C, H, W)) -> one (H*N, W*len(rows), 3) array, grey rows expanded."""
    cols = [r.expand(-1, 3, -1, -1) if r.shape[1] == 1 else r for r in rows]
    return torch.cat([torch.cat(list(c), dim=1) for c in cols], dim=2).permute(1, 2, 0).clamp(0, 1).numpy()


def write_samples(generator: torch.nn.Module, crops: torch.Tensor, degradation: Degradation, path: Path) -> Path:
    """A grid of (degraded input | output | target) rows for the first four validation crops."""
    with torch.no_grad():
        was = generator.training
        generator.eval()
        x = degrade(crops[:4], degradation)
        out = generator(x)
        generator.train(was)
    return imageio.save(path, _grid([x, out, crops[:4]]))


def guide_classes(world: World, names: Sequence[str] | None = None, *, size: int = 128,
                  max_classes: int = 5, mass: float = 0.3, seed: int = 0) -> list[str]:
    """The ImageNet classes that stand for ``world`` in the guide term.

    ``names`` when given (resolved by :func:`latentstudio.zoo.labels.class_index`: exact, case-insensitive or an
    unambiguous part of a name); else the built-in world's :data:`.worlds.WORLD_CLASSES`; else the world's own
    signature: the classes EfficientNet-Lite0 gives its training photographs' crops most probability, the fewest
    (at most ``max_classes``) holding ``mass`` of it.
    """
    from latentstudio.zoo.classifier import load_classifier
    from latentstudio.zoo.labels import imagenet_labels

    labels = imagenet_labels()
    if names:
        try:
            return list(dict.fromkeys(labels[class_index(n)] for n in names))
        except ParameterError as exc:
            raise ParameterError(f"guide classes: {exc}") from None
    if world.name in WORLD_CLASSES:
        return list(WORLD_CLASSES[world.name])
    if not world.train:
        raise ParameterError(f"world {world.name!r} has no training photographs")
    net = load_classifier("efficientnet_lite0")
    crops = random_crops([photo_tensor(p.pixels) for p in world.train], 64, size, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        q = torch.cat([net(c).softmax(-1) for c in crops.split(16)]).mean(0)
    chosen: list[str] = []
    held = 0.0
    for i in q.argsort(descending=True)[:max_classes].tolist():
        chosen.append(labels[i])
        held += float(q[i])
        if held >= mass:
            break
    return chosen


def train_seeing(world: World, out_dir: str | os.PathLike, *, steps: int = 1500, batch_size: int = 8,
                 size: int = 128, lr: float = 2e-4, seed: int = 0, arch: str = "lean", base: int = 32,
                 blocks: int = 3, l1: float = 100.0, perceptual: float = 0.0, guide: float = 0.0,
                 guide_names: Sequence[str] | None = None, guide_nets: Sequence[str] = GUIDE_NETS,
                 guide_jitter: float = 0.0, off_guide: float = 0.0, off_keep: float = 0.0,
                 off_world: str | os.PathLike = "wallpapers",
                 degradation: Degradation = Degradation(), sample_every: int = 250, device: str = "cpu",
                 progress: Callable[[int, int, float], None] | None = None,
                 meta: dict | None = None) -> SeeingTrainResult:
    """Train a generator that re-sees degraded pictures as ``world``; write it to ``out_dir``.

    Parameters
    ----------
    world : the photographs (:func:`.worlds.load_world`)
    out_dir : model folder; training checkpoints go to ``out_dir/checkpoints`` (a rerun resumes)
    steps, batch_size, lr, seed : the training loop's (AdamW with betas (0.5, 0.999), as pix2pix)
    size : side of the square training crops (the network is fully convolutional: it runs at any size)
    arch, base, blocks : generator (``lean``: :class:`LeanUNet` with ``base`` channels and ``blocks``
        residual blocks; ``pix2pix``: pix2pix's U-Net, sides multiple of 256)
    l1, perceptual : weights of the L1 and the EfficientNet-Lite0 feature terms beside the adversarial one
    guide : weight of the world term (``-log P(world classes)`` under EfficientNet-Lite0; 0 = off)
    guide_names : the world's ImageNet classes for it (default: :func:`guide_classes`)
    guide_nets, guide_jitter : the world term's classifiers (their mean) and the size of the random views each
        sees (:class:`.model.SeeingGAN`; log-scale range, 0 = the batch as it is)
    off_guide, off_keep : weights of the world term and of the structure term on the outputs for degraded
        *off-world* pictures (0 = none; :class:`.model.SeeingGAN`); each step then adds ``batch_size`` crops of them
    off_world : where the off-world pictures come from: ``"wallpapers"`` (:func:`.worlds.offworld_photos`) or a
        folder
    degradation : the run-time degradation, stored with the model
    sample_every : steps between sample grids (0 = none)
    device : ``cpu``, ``cuda`` or ``auto``; under ``torchrun`` every rank trains (DDP)
    progress : ``progress(step, total, loss)``
    meta : extra provenance stored in the model's config (the CLI's command line)

    Raises
    ------
    ParameterError : bad parameters, or a world without training photographs
    """
    from latentstudio.train import TrainConfig, fit

    for name, value, lo in (("steps", steps, 1), ("batch_size", batch_size, 1), ("size", size, 32),
                            ("seed", seed, 0), ("base", base, 4), ("blocks", blocks, 0),
                            ("sample_every", sample_every, 0)):
        _check(name, value, lo)
    for name, value in (("lr", lr), ("l1", l1), ("perceptual", perceptual), ("guide", guide),
                        ("off_guide", off_guide), ("off_keep", off_keep)):
        _check(name, value, 0, integer=False)
    if not world.train:
        raise ParameterError(f"world {world.name!r} has no training photographs")
    small = min(min(p.pixels.shape[:2]) for p in world.train)
    if small < size // 2:
        raise ParameterError(f"world {world.name!r}: its smallest photograph ({small} px) is too small for "
                             f"{size} px crops; use a smaller size")
    guide_names = guide_classes(world, guide_names, size=size) if guide > 0 or off_guide > 0 else []
    guide_ids = [class_index(n) for n in guide_names]
    gen_cfg = {"base": base, "blocks": blocks} if arch == "lean" else {}
    with torch.random.fork_rng():
        torch.manual_seed(seed)             # the initial weights (and spectral norm's vectors) follow the seed
        model = SeeingGAN(arch=arch, generator=gen_cfg, l1=l1, perceptual=perceptual, guide=guide,
                          guide_classes=guide_ids, guide_nets=guide_nets, guide_jitter=guide_jitter,
                          off_guide=off_guide, off_keep=off_keep, area_factor=degradation.area_factor)
    off_photos, off_record = [], None
    if model.uses_off_world:
        from latentstudio.seeing.worlds import offworld_photos

        off_photos = [photo_tensor(p.pixels) for p in offworld_photos(world, off_world)]
        off_record = {"source": os.fspath(off_world), "pictures": len(off_photos)}
    out = Path(out_dir)                     # made once the parameters are known good: bad ones leave nothing
    cfg = TrainConfig(steps=steps, batch_size=batch_size, lr=lr, betas=(0.5, 0.999), seed=seed,
                      checkpoint_dir=out / CHECKPOINTS, checkpoint_every=max(50, min(500, steps // 4)),
                      model_config=model.config(), log_every=max(1, min(25, steps // 20)), device=device).validate()
    out.mkdir(parents=True, exist_ok=True)
    photos = [photo_tensor(p.pixels) for p in world.train]
    crops = validation_crops(world, size=size)
    t0 = time.perf_counter()

    def make_batch(step: int, generator: torch.Generator):
        targets = random_crops(photos, batch_size, size, generator)
        batch = (training_pair(targets, generator, degradation), targets)
        if off_photos:
            batch += (training_pair(random_crops(off_photos, batch_size, size, generator), generator, degradation),)
        return batch

    samples: list[Path] = []

    def on_progress(step: int, total: int, loss: float) -> None:
        if sample_every and (step % sample_every == 0 or step == total):
            samples.append(write_samples(model.generator, crops, degradation, out / SAMPLES / f"step-{step:06d}.png"))
        if progress is not None:
            progress(step, total, loss)

    result = fit(model, data=lambda step, g: make_batch(step, g), loss_fn=lambda net, b: net(*b), config=cfg,
                 progress=on_progress)
    model.cpu()
    generator = model.generator.eval()
    k = max(1, len(result.losses) // 20)
    losses = {"first": float(np.mean(result.losses[:k])), "last": float(np.mean(result.losses[-k:])),
              **{name: float(np.mean(v[-k:])) for name, v in result.metrics.items()}}
    if result.rank != 0:        # torchrun: the other ranks hold the same weights; rank 0 validates and writes
        return SeeingTrainResult(model_dir=out, steps=result.steps_done, seconds=time.perf_counter() - t0,
                                 losses=losses, validation={}, samples=samples, world=world.describe(),
                                 rank=result.rank)
    validation = validate(generator, crops, degradation)
    record = {"kind": "learning_to_see", "arch": arch, "degradation": degradation.to_dict(),
              "world": world.describe(), "train": {"steps": steps, "batch_size": batch_size, "size": size,
                                                   "lr": lr, "seed": seed, "l1": l1, "perceptual": perceptual,
                                                   "guide": guide, "guide_classes": guide_names,
                                                   "guide_nets": list(guide_nets), "guide_jitter": guide_jitter,
                                                   "off_guide": off_guide, "off_keep": off_keep,
                                                   "off_world": off_record,
                                                   "world_size": result.world_size},
              "losses": losses, "validation": validation, **(meta or {})}
    save_checkpoint(out, generator, config=generator.config(), meta=record)
    return SeeingTrainResult(model_dir=out, steps=result.steps_done, seconds=time.perf_counter() - t0,
                             losses=losses, validation=validation, samples=samples, world=world.describe())


@dataclass
class SeerModel:
    """A trained generator with what it needs at run time."""

    generator: torch.nn.Module
    degradation: Degradation
    meta: dict
    path: Path

    @property
    def world(self) -> str:
        return str(self.meta.get("world", {}).get("name", self.path.name))


def load_seer_model(path: str | os.PathLike) -> SeerModel:
    """Load a model folder written by :func:`train_seeing`, or a shipped world's model by name.

    Raises
    ------
    ParameterError : missing or corrupt folder, or a checkpoint that is not a Learning-to-See generator
    """
    p = resolve_model(path)
    model, info = load_checkpoint(p)
    meta = info.get("meta", {}) or {}
    if isinstance(model, SeeingGAN):
        model, meta = model.generator.eval(), meta
    elif meta.get("kind") != "learning_to_see":
        raise ParameterError(f"model {str(p)!r} is not a Learning-to-See model (its config says "
                             f"{meta.get('kind')!r}); train one with `latentstudio seeing train`")
    try:
        degradation = Degradation(**(meta.get("degradation") or {}))
    except TypeError as exc:
        raise ParameterError(f"model {str(p)!r} has a bad degradation record ({exc})") from None
    return SeerModel(generator=model.eval(), degradation=degradation, meta=meta, path=p)
