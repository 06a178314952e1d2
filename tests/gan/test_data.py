"""Picture sets: folders, squaring, deduplication, a split that follows the fingerprint, refusals."""

import numpy as np
import pytest
from PIL import Image

from latentstudio.errors import ParameterError
from latentstudio.gan.data import fingerprint, load_images, split_of, square


def test_folder_is_loaded_square_deduplicated_and_split(tmp_path, pictures_kit):
    pics = pictures_kit.shapes(30, size=20)
    pictures_kit.write(tmp_path / "set", pics + pics[:3])                  # three exact copies
    (tmp_path / "set" / "notes.txt").write_text("not a picture")
    (tmp_path / "set" / "broken.png").write_bytes(b"\x89PNG broken")
    data = load_images(tmp_path / "set", image_size=16)
    assert data.images.shape == (30, 3, 16, 16) and data.images.dtype == np.uint8
    assert data.info["duplicates_removed"] == 3 and data.info["unreadable"] == 1
    assert sum(data.counts().values()) == 30
    for img, s in zip(data.images, data.split):
        assert s == split_of(fingerprint(img))
    again = load_images(tmp_path / "set", image_size=16)
    assert np.array_equal(again.split, data.split)


def test_near_copies_share_a_split(pictures_kit):
    pics = pictures_kit.shapes(10, size=32)
    for p in pics:
        a = square(p.astype(np.float32) / 255, image_size=32)
        b = square(np.clip(p.astype(np.float32) / 255 * 0.97 + 0.01, 0, 1), image_size=32)   # re-toned copy
        assert split_of(fingerprint(a)) == split_of(fingerprint(b))


def test_pad_keeps_the_whole_picture_and_crop_the_centre():
    wide = np.zeros((10, 30, 3), np.float32)
    padded = square(wide, image_size=30, fit="pad")
    assert padded[:, 0, 0].tolist() == [255, 255, 255] and padded[:, 15, 15].tolist() == [0, 0, 0]
    assert square(wide, image_size=10, fit="crop").max() == 0


def test_max_items_and_refusals(tmp_path, picture_folder, pictures_kit):
    assert len(load_images(picture_folder, image_size=8, max_items=5, seed=1)) == 5
    with pytest.raises(ParameterError, match="neither"):
        load_images(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match="no images"):
        load_images(tmp_path / "empty")
    one = tmp_path / "one"
    one.mkdir()
    Image.fromarray(pictures_kit.shapes(1)[0]).save(one / "a.png")
    with pytest.raises(ParameterError, match="at least 2"):
        load_images(one)
    with pytest.raises(ParameterError, match="image_size"):
        load_images(picture_folder, image_size=4)
    with pytest.raises(ParameterError, match="fit"):
        load_images(picture_folder, fit="stretch")
