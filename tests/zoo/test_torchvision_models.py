"""Torchvision classifiers are opt-in: weights are found in user folders and never downloaded."""

from __future__ import annotations

import pytest
import torch

from latentstudio import zoo
from latentstudio.errors import AssetMissingError, ParameterError
from latentstudio.zoo import torchvision_models as tvm


def test_find_weights_in_env_folder_and_argument(tmp_path, monkeypatch):
    monkeypatch.setenv(tvm.ENV_VAR, str(tmp_path))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(AssetMissingError, match=f"resnet50.*{tvm.ENV_VAR}.*searched: {tmp_path}"):
        tvm.find_weights("resnet50")
    (tmp_path / "resnet18-f37072fd.pth").write_bytes(b"x")          # another model's file is not taken
    with pytest.raises(AssetMissingError):
        tvm.find_weights("resnet50")
    f = tmp_path / "resnet50-0676ba61.pth"
    f.write_bytes(b"x")
    assert tvm.find_weights("resnet50") == f
    assert tvm.find_weights("resnet50", tmp_path) == f
    assert tvm.find_weights("resnet50", f) == f
    with pytest.raises(AssetMissingError, match="does not exist"):
        tvm.find_weights("resnet50", tmp_path / "nope.pth")
    with pytest.raises(ParameterError):
        tvm.find_weights("efficientnet_lite0")


@pytest.mark.skipif(tvm.available(), reason="torchvision is installed here")
def test_torchvision_model_without_torchvision_names_the_package():
    assert "googlenet" not in zoo.list_classifiers()
    with pytest.raises(AssetMissingError, match="pip install torchvision"):
        zoo.load_classifier("googlenet")


@pytest.mark.skipif(not tvm.available(), reason="torchvision is not installed")
def test_torchvision_model_from_a_state_dict(tmp_path):
    import torchvision

    net = torchvision.models.resnet18(weights=None)
    torch.save(net.state_dict(), tmp_path / "resnet18-test.pth")
    model = zoo.load_classifier("resnet18", weights=tmp_path)
    assert model.input_size == 224 and dict(zoo.layer_names(model))["layer4"] == (512, 7, 7)
