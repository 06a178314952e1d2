"""Does a model re-see its input, or play a slideshow of its training pictures? And is its output of its world?

Users of Learning to See report custom models that ignore the camera and replay training images. This module
gives the artist the numbers to tell:

* **follows the input** — correlation of the edge maps (at the degradation's scale) of each input and its
  output, beside a *slideshow* baseline: the training crop whose edges match that input best, chosen with
  knowledge of the input (an oracle slideshow: no replaying model can do better);
* **copies training pictures** — how close each output is to its nearest training crop (cosine of
  EfficientNet-Lite0 features), beside how close new pictures of the same world (the held-out validation
  photograph's crops) are to their nearest training crop; an output much closer than those is a copy;
* **of its world** — for worlds with ImageNet classes (flowers: daisy, yellow lady's slipper, rapeseed,
  cardoon; water: lakeshore, seashore, ...), how often a classifier held out of training
  (EfficientNet-Lite2) names one of them in its top 5, beside the same rate on the inputs themselves and on
  the world's own held-out photograph.

Example
-------
>>> report = check_model(load_seer_model("models/flowers"), unrelated_inputs())     # doctest: +SKIP
>>> report.follows, report.slideshow                                                 # doctest: +SKIP
(0.71, 0.32)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from latentstudio.errors import ParameterError
from latentstudio.seeing.degrade import photo_tensor, random_crops
from latentstudio.seeing.model import JUDGE
from latentstudio.seeing.see import Seer
from latentstudio.seeing.training import SeerModel, edge_correlation
from latentstudio.seeing.worlds import WORLD_CLASSES


@dataclass
class CheckReport:
    """What :func:`check_model` measured (medians over the inputs; per-input rows in ``items``)."""

    model: str
    world: str
    inputs: int
    follows: float
    slideshow: float
    copy_similarity: float
    new_picture_similarity: float
    world_rate: float | None = None
    world_rate_inputs: float | None = None
    world_rate_photo: float | None = None
    world_classes: tuple[str, ...] = ()
    items: list[dict] = field(default_factory=list)
    outputs: np.ndarray | None = field(default=None, repr=False)

    @property
    def verdict(self) -> str:
        """One line an artist can act on."""
        follows = self.follows > self.slideshow + 0.1
        copies = self.copy_similarity > self.new_picture_similarity + 0.05
        if follows and not copies:
            return "re-sees its input: output follows the input's structure, not its training pictures"
        if not follows and copies:
            return "slideshow: output ignores the input and reproduces training pictures (train on more, varied pictures)"
        if not follows:
            return "weak: output follows the input little more than a replayed training picture would"
        return "follows the input, but outputs sit closer to training pictures than new pictures of the world do"

    def summary(self) -> dict:
        keys = ("model", "world", "inputs", "follows", "slideshow", "copy_similarity", "new_picture_similarity",
                "world_rate", "world_rate_inputs", "world_rate_photo")
        return {**{k: getattr(self, k) for k in keys}, "world_classes": list(self.world_classes),
                "verdict": self.verdict, "items": self.items}


def _batch(images: list[np.ndarray]) -> torch.Tensor:
    return torch.stack([torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).permute(2, 0, 1)
                        for a in images])


def _pooled(net, x: torch.Tensor, size: int = 224) -> torch.Tensor:
    from latentstudio.zoo.hooks import features

    with torch.no_grad(), features(net, "head") as got:
        net(F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False))
        f = got["head"].mean(dim=(2, 3))
    return F.normalize(f, dim=1)


def _top5_rate(net, x: torch.Tensor, classes: tuple[str, ...]) -> tuple[float, list[list[str]]]:
    with torch.no_grad():
        logits = net(F.interpolate(x, size=(net.input_size, net.input_size), mode="bilinear", align_corners=False))
    top = logits.topk(5, dim=1).indices.tolist()
    names = [[net.labels[i] for i in row] for row in top]
    wanted = set(classes)
    return float(np.mean([any(n in wanted for n in row) for row in names])), names


def check_model(model: SeerModel, inputs: list[tuple[str, np.ndarray]], *, size: int = 256, bank: int = 256,
                seed: int = 0, world_photos: tuple[list, list] | None = None) -> CheckReport:
    """Measure how much ``model`` follows ``inputs`` versus replaying its training pictures.

    Parameters
    ----------
    model : a loaded model (:func:`.training.load_seer_model`)
    inputs : ``[(name, (size, size, 3) float image)]``, material unlike the world
        (:func:`.worlds.unrelated_inputs`)
    size : side the model runs at
    bank : training crops to compare against (random crops of the training photographs)
    world_photos : ``(train_photos, validation_photos)`` as :class:`.worlds.Photo` lists; default: the
        built-in world named in the model's config (a folder world must be passed)

    Returns
    -------
    CheckReport : medians, per-input rows, and the outputs ``(N, size, size, 3)``

    Raises
    ------
    ParameterError : no inputs, inputs of the wrong shape, or no way to find the training photographs
    """
    from latentstudio.seeing.worlds import WORLDS, load_world
    from latentstudio.zoo.classifier import load_classifier

    if not inputs:
        raise ParameterError("check needs at least one input picture")
    if not isinstance(bank, int) or isinstance(bank, bool) or bank < 1:
        raise ParameterError(f"bank={bank!r} must be a positive integer")
    if any(a.ndim != 3 or a.shape[:2] != (size, size) or a.shape[2] != 3 for _, a in inputs):
        raise ParameterError(f"check inputs must be ({size}, {size}, 3) pictures")
    world_name = model.world
    if world_photos is None:
        if world_name not in WORLDS:
            raise ParameterError(f"model {str(model.path)!r} was trained on {world_name!r}, not a built-in world: "
                                 f"pass its folder (--world)")
        w = load_world(world_name, short_side=int(model.meta.get("short_side", 512)))
        world_photos = (w.train, w.validation)
    train_photos, val_photos = world_photos
    gen = torch.Generator().manual_seed(seed)
    bank_x = random_crops([photo_tensor(p.pixels) for p in train_photos], bank, size, gen, flips=False)
    new_x = random_crops([photo_tensor(p.pixels) for p in (val_photos or train_photos)], 32, size,
                         torch.Generator().manual_seed(seed + 1), flips=False)

    seer = Seer(model, size=size)
    x = _batch([a for _, a in inputs])
    y = _batch([seer(a) for _, a in inputs])
    area = model.degradation.area_factor
    follows = edge_correlation(x, y, area_factor=area)
    # oracle slideshow: for each input, the training crop whose edges match it best
    best = torch.full((len(inputs),), -1.0)
    for chunk in bank_x.split(64):
        for i in range(len(inputs)):
            r = edge_correlation(x[i:i + 1].expand(len(chunk), -1, -1, -1), chunk, area_factor=area)
            best[i] = max(best[i], r.max())
    net = load_classifier("efficientnet_lite0")
    fb = _pooled(net, bank_x)
    sim_out = (_pooled(net, y) @ fb.T).max(dim=1).values
    sim_new = (_pooled(net, new_x) @ fb.T).max(dim=1).values
    classes = WORLD_CLASSES.get(world_name, ())
    rate = rate_in = rate_photo = None
    names: list[list[str]] = [[] for _ in inputs]
    if classes:
        judge = load_classifier(JUDGE)
        rate, names = _top5_rate(judge, y, classes)
        rate_in, _ = _top5_rate(judge, x, classes)
        rate_photo, _ = _top5_rate(judge, new_x, classes)
    items = [{"input": n, "follows": round(float(follows[i]), 4), "slideshow": round(float(best[i]), 4),
              "copy_similarity": round(float(sim_out[i]), 4), "top5": names[i]} for i, (n, _) in enumerate(inputs)]
    return CheckReport(model=str(model.path), world=world_name, inputs=len(inputs),
                       follows=float(follows.median()), slideshow=float(best.median()),
                       copy_similarity=float(sim_out.median()), new_picture_similarity=float(sim_new.median()),
                       world_rate=rate, world_rate_inputs=rate_in, world_rate_photo=rate_photo,
                       world_classes=classes, items=items, outputs=y.permute(0, 2, 3, 1).numpy())
