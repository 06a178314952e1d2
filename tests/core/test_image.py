"""core.image: every PIL mode loads as (H, W, 3) float RGB; save, resize and tensors round-trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from latentstudio.core.image import (center_crop, from_tensor, image_files, load, resize, save, to_tensor, to_uint8,
                                     valid_image)
from latentstudio.errors import ParameterError


def _gradient(h=24, w=32) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([xx / (w - 1), yy / (h - 1), 0.25 * np.ones((h, w))], axis=-1).astype(np.float32)


def test_rgb_png_round_trip(tmp_path):
    img = _gradient()
    path = save(tmp_path / "g.png", img)
    back = load(path)
    assert back.shape == (24, 32, 3) and back.dtype == np.float32
    np.testing.assert_allclose(back, img, atol=0.5 / 255 + 1e-6)


def test_rgba_composited_over_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255          # red ...
    rgba[:2, :, 3] = 255        # ... opaque on top
    rgba[2:, :, 3] = 0          # transparent below -> white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = load(tmp_path / "a.png")
    np.testing.assert_allclose(out[:2], np.broadcast_to([1, 0, 0], (2, 4, 3)))
    np.testing.assert_allclose(out[2:], 1.0)


def test_greyscale_and_16_bit(tmp_path):
    grey = (np.arange(16, dtype=np.uint8) * 16).reshape(4, 4)
    Image.fromarray(grey, "L").save(tmp_path / "l.png")
    out = load(tmp_path / "l.png")
    assert out.shape == (4, 4, 3)
    np.testing.assert_allclose(out[..., 0], grey / 255.0, atol=1e-6)
    np.testing.assert_allclose(out[..., 0], out[..., 2])

    deep = (np.arange(16, dtype=np.uint16) * 4000).reshape(4, 4)
    Image.fromarray(deep).save(tmp_path / "d.png")  # PIL mode I;16
    out16 = load(tmp_path / "d.png")
    np.testing.assert_allclose(out16[..., 1], deep / 65535.0, atol=1e-6)


def test_palette_with_and_without_transparency(tmp_path):
    pal = Image.new("P", (3, 1))
    pal.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (768 - 9))
    pal.putdata([0, 1, 2])
    pal.save(tmp_path / "p.png")
    np.testing.assert_allclose(load(tmp_path / "p.png")[0], np.eye(3))
    pal.info["transparency"] = 1
    pal.save(tmp_path / "pt.png", transparency=1)
    out = load(tmp_path / "pt.png")[0]
    np.testing.assert_allclose(out[1], [1, 1, 1])  # the transparent green became white
    np.testing.assert_allclose(out[0], [1, 0, 0])


def test_jpeg_and_other_formats(tmp_path):
    img = _gradient(64, 48)
    for ext in (".jpg", ".bmp", ".tiff", ".webp", ".gif"):
        back = load(save(tmp_path / f"x{ext}", img))
        assert back.shape == img.shape
        assert np.abs(back - img).mean() < 0.03, ext


def test_resize_and_crop(tmp_path):
    img = _gradient(24, 32)
    assert resize(img, 12).shape == (12, 16, 3)
    assert resize(img, (10, 20)).shape == (20, 10, 3)
    assert load(save(tmp_path / "g.png", img), size=48).shape == (48, 64, 3)
    assert center_crop(img, 20).shape == (20, 20, 3)
    with pytest.raises(ParameterError, match="size=0"):
        resize(img, 0)
    with pytest.raises(ParameterError, match="crop size=30"):
        center_crop(img, 30)


def test_tensor_round_trip():
    img = _gradient()
    t = to_tensor(img)
    assert tuple(t.shape) == (1, 3, 24, 32) and t.dtype == torch.float32
    np.testing.assert_array_equal(from_tensor(t), img)
    np.testing.assert_array_equal(from_tensor(t[0]), img)
    with pytest.raises(ParameterError, match="batch of 1"):
        from_tensor(torch.zeros(2, 3, 4, 4))


def test_valid_image_rules():
    assert valid_image(np.full((2, 2, 3), 255, np.uint8)).max() == 1.0
    assert valid_image(np.zeros((2, 2), np.float32)).shape == (2, 2, 3)
    assert valid_image(np.full((2, 2, 3), 2.0)).max() == 1.0
    assert to_uint8(np.full((1, 1, 3), 0.5)).tolist() == [[[128, 128, 128]]]
    for bad, match in [(np.zeros((2, 2, 5)), "shape"), (np.zeros((0, 2, 3)), "zero size"),
                       (np.full((2, 2, 3), np.nan), "NaN"), ([[0.0]], "numpy array"),
                       (np.zeros((2, 2, 3), np.int32), "dtype")]:
        with pytest.raises(ParameterError, match=match):
            valid_image(bad, name="pic")


def test_from_tensor_refuses_non_finite_pixels():
    import torch

    t = torch.full((1, 3, 4, 4), 0.5)
    t[0, 1, 2, 2] = float("nan")
    with pytest.raises(ParameterError, match="NaN"):
        from_tensor(t)


@pytest.mark.parametrize("size", [2.5, (4.0, 3), True, (4,), "8"])
def test_resize_refuses_sizes_that_are_not_ints(size):
    with pytest.raises(ParameterError, match="size"):
        resize(np.zeros((6, 8, 3), np.float32), size)


def test_image_files_finds_pictures_below_a_folder(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("z.PNG", "a/x.jpg", "a/b/y.webp"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "notes.txt").write_text("no")
    (tmp_path / "a" / "dir.png").mkdir()                       # a folder named like a picture is not one
    assert [p.relative_to(tmp_path).as_posix() for p in image_files(tmp_path)] == ["a/b/y.webp", "a/x.jpg", "z.PNG"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match="reference folder .*empty.* holds no images"):
        image_files(tmp_path / "empty", what="reference folder")
    with pytest.raises(ParameterError, match="is not a folder"):
        image_files(tmp_path / "notes.txt")
