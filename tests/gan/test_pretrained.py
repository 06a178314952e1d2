"""Pretrained generators: the module's layout, the loader's refusals, the wheels when installed."""

import importlib.util
import os
import pickle

import pytest
import torch

from latentstudio.errors import AssetMissingError, ModelError, ParameterError
from latentstudio.zoo.pretrained_gans import (PRETRAINED, DCGANGenerator, list_pretrained_generators,
                                              load_pretrained_generator, load_state_dict_checked, read_state_dict)



def test_layouts_match_the_wheels_state_dict_keys():
    eye = DCGANGenerator(**PRETRAINED["omniart-eyes"].config).state_dict()
    assert eye["main.0.weight"].shape == (108, 1024, 4, 4) and "main.4.weight" in eye    # dropout at index 3
    assert eye["main.16.weight"].shape == (64, 3, 4, 4)
    face = DCGANGenerator(**PRETRAINED["digiface"].config).state_dict()
    assert face["main.0.weight"].shape == (100, 512, 4, 4) and face["main.12.weight"].shape == (64, 3, 4, 4)


def small_state(tmp_path, mutate=None, key=None):
    g = DCGANGenerator(noise_dim=4, width=2, image_size=8)
    sd = {k: v.clone() for k, v in g.state_dict().items()}
    if mutate:
        mutate(sd)
    path = tmp_path / "w.pth"
    torch.save({key: sd} if key else sd, path)
    return g, path


def test_loader_reads_a_plain_state_dict_and_a_nested_one(tmp_path):
    g, path = small_state(tmp_path, key="netG_state_dict")
    sd = read_state_dict(path, key="netG_state_dict")
    load_state_dict_checked(DCGANGenerator(noise_dim=4, width=2, image_size=8), sd)
    with pytest.raises(ParameterError, match="no 'nope' entry"):
        read_state_dict(path, key="nope")


@pytest.mark.parametrize("mutate, match", [
    (lambda sd: sd.pop("main.0.weight"), "missing"),
    (lambda sd: sd.__setitem__("main.9.weight", torch.zeros(1)), "unexpected"),
    (lambda sd: sd.__setitem__("main.0.weight", torch.zeros(4, 3, 4, 4)), "shape"),
    (lambda sd: sd["main.1.weight"].fill_(float("nan")), "NaN"),
])
def test_loader_rejects_state_dicts_that_do_not_fit(tmp_path, mutate, match):
    g, path = small_state(tmp_path, mutate)
    with pytest.raises(ModelError, match=match):
        load_state_dict_checked(DCGANGenerator(noise_dim=4, width=2, image_size=8), read_state_dict(path))


class Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_loader_never_unpickles_code_or_non_tensors(tmp_path):
    evil = tmp_path / "evil.pth"
    with open(evil, "wb") as fh:
        pickle.dump({"main.0.weight": Boom()}, fh, protocol=2)
    with pytest.raises(ParameterError, match="not a plain state dict"):
        read_state_dict(evil)
    odd = tmp_path / "odd.pth"
    torch.save({"main.0.weight": [1, 2, 3]}, odd)
    with pytest.raises(ParameterError, match="not named tensors"):
        read_state_dict(odd)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"\0" * 100)
    with pytest.raises(ParameterError):
        read_state_dict(junk)


def test_unknown_names_and_missing_wheels(monkeypatch):
    with pytest.raises(ParameterError, match="omniart-eyes"):
        load_pretrained_generator("stylegan9")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gan_face_generate"
                        else real(name, *a))
    with pytest.raises(AssetMissingError, match="--no-deps gan-face-generate"):
        load_pretrained_generator("digiface")
    assert "digiface" not in list_pretrained_generators()


def test_generator_from_a_weights_file(tmp_path):
    g = DCGANGenerator(**PRETRAINED["digiface"].config)
    path = tmp_path / "face.pth"
    torch.save({"netG_state_dict": g.state_dict()}, path)
    loaded = load_pretrained_generator("digiface", weights=path)
    w = loaded.sample_latents(2, generator=torch.Generator().manual_seed(0))
    x = loaded(w)
    assert x.shape == (2, 3, 64, 64) and float(x.min()) >= 0 and not loaded.training
    assert "non-commercial" in loaded.licence


@pytest.mark.skipif(importlib.util.find_spec("omniart_eye_generator") is None,
                    reason="omniart-eye-generator is not installed")
def test_omniart_eyes_from_the_wheel():
    g = load_pretrained_generator("omniart-eyes")
    w = g.sample_latents(2, generator=torch.Generator().manual_seed(0), condition="blue")
    with torch.no_grad():
        x = g(w)
    assert x.shape == (2, 3, 128, 128) and 0.2 < float(x.mean()) < 0.8
    with pytest.raises(ParameterError, match="amber"):
        g.sample_latents(1, condition="purple")
