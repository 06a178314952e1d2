import json

import numpy as np
import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.seeing.training import (edge_correlation, load_seer_model, resolve_model, shipped_models,
                                          train_seeing)
from latentstudio.seeing.worlds import load_world


def test_training_lowers_l1_and_writes_a_loadable_model(world_dir, tmp_path):
    w = load_world(world_dir, short_side=96)
    run = train_seeing(w, tmp_path / "m", steps=40, batch_size=4, size=32, base=4, blocks=1, lr=2e-3,
                       sample_every=20, seed=1)
    assert run.steps == 40 and len(run.samples) == 2 and all(p.is_file() for p in run.samples)
    assert run.losses["last"] < run.losses["first"]
    m = load_seer_model(tmp_path / "m")
    assert m.world == world_dir.name and m.degradation.area_factor == 24.0
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg["meta"]["train"]["seed"] == 1 and cfg["meta"]["world"]["validation"]
    assert 0 <= run.validation["l1"] < 1


def test_training_resumes_where_it_stopped(world_dir, tmp_path):
    w = load_world(world_dir, short_side=96)
    kw = dict(batch_size=2, size=32, base=4, blocks=1, sample_every=0, seed=3)
    whole = train_seeing(w, tmp_path / "a", steps=8, **kw)
    train_seeing(w, tmp_path / "b", steps=4, **kw)
    resumed = train_seeing(w, tmp_path / "b", steps=8, **kw)
    assert resumed.losses == pytest.approx(whole.losses, rel=1e-5)
    torch.manual_seed(12345)                 # the caller's RNG state does not change the run
    again = train_seeing(w, tmp_path / "c", steps=8, **kw)
    assert again.losses == pytest.approx(whole.losses, rel=1e-5)
    other = train_seeing(w, tmp_path / "d", steps=8, **{**kw, "seed": 4})
    assert other.losses["first"] != pytest.approx(whole.losses["first"], rel=1e-5)


def test_training_rejects_bad_parameters(world_dir, tmp_path):
    w = load_world(world_dir, short_side=96)
    with pytest.raises(ParameterError, match="steps"):
        train_seeing(w, tmp_path / "x", steps=0)
    with pytest.raises(ParameterError, match="too small"):
        train_seeing(w, tmp_path / "x", steps=2, size=512)
    with pytest.raises(ParameterError, match="guide classes"):
        train_seeing(w, tmp_path / "y", steps=2, guide=1.0, guide_names=["zzzq"])
    assert not (tmp_path / "y").exists()                 # nothing written for bad input


def test_edge_correlation_sees_structure_not_texture():
    rng = np.random.default_rng(0)
    base = torch.zeros(1, 3, 96, 96)
    base[..., 20:70, 30:80] = 1.0
    textured = (base + 0.1 * torch.from_numpy(rng.random((1, 3, 96, 96)).astype(np.float32))).clamp(0, 1)
    moved = torch.roll(base, shifts=(30, 30), dims=(2, 3))
    assert float(edge_correlation(base, textured)) > 0.95
    assert float(edge_correlation(base, moved)) < 0.3


def test_load_rejects_other_checkpoints(tmp_path):
    from latentstudio.latent.vae import ImageVAE
    from latentstudio.zoo.checkpoint import save_checkpoint

    vae = ImageVAE()
    save_checkpoint(tmp_path / "vae", vae, config=vae.config())
    with pytest.raises(ParameterError, match="not a Learning-to-See model"):
        load_seer_model(tmp_path / "vae")
    with pytest.raises(ParameterError, match="does not exist"):
        load_seer_model(tmp_path / "nothing")


def test_shipped_names_resolve(tmp_path):
    for world, path in shipped_models().items():
        assert resolve_model(world) == path
        assert world.split("_")[0] == load_seer_model(world).world    # flowers_guided: a flowers model
    assert resolve_model(tmp_path) == tmp_path


def test_guide_classes_come_from_names_the_world_or_its_photographs(world_dir):
    from latentstudio.seeing.training import guide_classes
    from latentstudio.seeing.worlds import WORLD_CLASSES

    w = load_world(world_dir, short_side=96)
    assert guide_classes(w, ["daisy", "daisy", "rapeseed"]) == ["daisy", "rapeseed"]
    with pytest.raises(ParameterError, match="guide classes.*not an ImageNet class name"):
        guide_classes(w, ["daisy", "no such flower"])
    own = guide_classes(w, size=48)                  # a folder world: the classes its photographs get
    assert 1 <= len(own) <= 5 and len(set(own)) == len(own)
    import dataclasses

    assert guide_classes(dataclasses.replace(w, name="flowers")) == list(WORLD_CLASSES["flowers"])


def test_guide_term_pulls_outputs_towards_the_world_classes(world_dir, tmp_path):
    from latentstudio.seeing.degrade import degrade, photo_tensor, random_crops
    from latentstudio.zoo.classifier import load_classifier

    w = load_world(world_dir, short_side=96)
    kw = dict(steps=30, batch_size=4, size=48, base=8, blocks=1, lr=3e-3, sample_every=0, seed=0, l1=1.0)
    train_seeing(w, tmp_path / "plain", **kw)
    run = train_seeing(w, tmp_path / "guided", guide=5.0, guide_names=["daisy"], **kw)
    assert "world_nll" in run.losses
    cfg = json.loads((tmp_path / "guided" / "config.json").read_text())
    assert cfg["meta"]["train"]["guide_classes"] == ["daisy"] and cfg["meta"]["train"]["guide"] == 5.0
    net = load_classifier("efficientnet_lite0")
    daisy = list(net.labels).index("daisy")
    crops = random_crops([photo_tensor(p.pixels) for p in w.train], 8, 48, torch.Generator().manual_seed(9))
    nll = {}
    for name in ("plain", "guided"):
        m = load_seer_model(tmp_path / name)
        with torch.no_grad():
            out = m.generator(degrade(crops, m.degradation))
            nll[name] = float(-net(out).log_softmax(-1)[:, daisy].mean())
    assert nll["guided"] < nll["plain"] - 1.0            # -log P(daisy) much lower with the world term


def test_guide_needs_classes():
    from latentstudio.seeing.model import SeeingGAN

    with pytest.raises(ParameterError, match="guide_classes"):
        SeeingGAN(guide=1.0)


@pytest.fixture(scope="module")
def off_dir(tmp_path_factory):
    """Off-world pictures: other sample photographs, and a copy of one of the world's own (to be left out)."""
    from latentstudio import assets
    from latentstudio.core import image as imageio

    d = tmp_path_factory.mktemp("off")
    for name in ("astronaut", "camera", "brick"):
        imageio.save(d / f"{name}.png", imageio.load(assets.sample_image(name), size=96))
    return d


def test_offworld_photos_leave_the_world_out(world_dir, off_dir, tmp_path):
    from latentstudio.seeing.worlds import offworld_photos

    w = load_world(world_dir, short_side=96)
    (off_dir / "coffee_again.png").write_bytes((world_dir / "coffee.png").read_bytes())
    try:
        names = sorted(p.name for p in offworld_photos(w, off_dir, short_side=96))
    finally:
        (off_dir / "coffee_again.png").unlink()
    assert names == ["astronaut.png", "brick.png", "camera.png"]
    # the world's own files are left out at any size (a content hash alone would miss them at another size)
    at_96 = {p.name for p in offworld_photos(load_world(world_dir, short_side=64), world_dir, short_side=96)}
    assert not at_96 & {"chelsea.png", "coffee.png", "rocket.png"}
    with pytest.raises(ParameterError, match="holds no images"):
        offworld_photos(w, tmp_path)
    only_own = tmp_path / "own"
    only_own.mkdir()
    (only_own / "c.png").write_bytes((world_dir / "coffee.png").read_bytes())
    with pytest.raises(ParameterError, match="no off-world pictures"):
        offworld_photos(w, only_own)


def test_off_world_term_paints_the_world_into_other_pictures(world_dir, off_dir, tmp_path):
    from latentstudio.seeing.degrade import degrade, photo_tensor, random_crops
    from latentstudio.seeing.worlds import offworld_photos
    from latentstudio.zoo.classifier import load_classifier

    w = load_world(world_dir, short_side=96)
    kw = dict(steps=100, batch_size=4, size=48, base=8, blocks=1, lr=3e-3, sample_every=0, seed=0, l1=1.0,
              guide=5.0, guide_names=["daisy"])
    train_seeing(w, tmp_path / "guided", **kw)
    run = train_seeing(w, tmp_path / "off", off_guide=5.0, off_keep=1.0, off_world=off_dir, **kw)
    assert {"off_world_nll", "off_keep"} <= set(run.losses)
    cfg = json.loads((tmp_path / "off" / "config.json").read_text())["meta"]["train"]
    assert cfg["off_guide"] == 5.0 and cfg["off_world"] == {"source": str(off_dir), "pictures": 3}
    net = load_classifier("efficientnet_lite0")
    daisy = list(net.labels).index("daisy")
    others = [photo_tensor(p.pixels) for p in offworld_photos(w, off_dir, short_side=96)]
    crops = random_crops(others, 8, 48, torch.Generator().manual_seed(9))
    nll = {}
    for name in ("guided", "off"):
        m = load_seer_model(tmp_path / name)
        with torch.no_grad():
            nll[name] = float(-net(m.generator(degrade(crops, m.degradation))).log_softmax(-1)[:, daisy].mean())
    assert nll["off"] < nll["guided"] - 0.75, nll        # other pictures come out more of the world (1.6 here)
