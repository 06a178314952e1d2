"""The teacher's views of a picture: the centre crop, or the crop and the whole picture letterboxed."""

import numpy as np
import pytest

from latentstudio.core.image import pad_square
from latentstudio.errors import ParameterError
from latentstudio.soundscape.teacher import Teacher


@pytest.fixture(scope="module")
def wide():
    """A wide picture whose two ends differ from its centre (the centre crop cannot see them)."""
    rng = np.random.default_rng(0)
    img = np.full((64, 192, 3), 0.5, np.float32)
    img[:, :48] = rng.random((64, 48, 3), dtype=np.float32)
    img[:, -48:] = [0.9, 0.1, 0.1]
    return img


def test_whole_view_averages_the_crop_and_the_letterboxed_picture(wide):
    crop, both = Teacher(), Teacher(views="crop+whole")
    a = crop.logits([wide])
    b = both.logits([wide])
    assert not np.allclose(a, b, atol=1e-3)                       # the ends change what it sees
    np.testing.assert_allclose(b, (a + crop.logits([pad_square(wide)])) / 2, rtol=1e-5, atol=1e-5)


def test_whole_view_of_a_square_picture_is_the_crop():
    img = np.random.default_rng(1).random((80, 80, 3), dtype=np.float32)
    np.testing.assert_allclose(Teacher(views="crop+whole").logits([img]), Teacher().logits([img]), rtol=1e-5, atol=1e-5)


def test_bad_views_are_refused():
    with pytest.raises(ParameterError, match="views"):
        Teacher(views="everything")


def test_a_student_keeps_its_teachers_views():
    from latentstudio.soundscape.student import SoundscapeStudent
    from latentstudio.soundscape.training import DistillConfig

    cfg = DistillConfig(channels=(8,), embedding_dim=8, teacher_views="crop+whole").validate()
    model = SoundscapeStudent(**cfg.model_config(1000))
    teacher = Teacher.of_student(model)
    assert (teacher.views, teacher.name, teacher.temperature) == ("crop+whole", "efficientnet_lite0", 2.0)
    assert Teacher.of_student(SoundscapeStudent(channels=(8,), embedding_dim=8)).views == "crop"   # older models
    with pytest.raises(ParameterError, match="teacher_views"):
        DistillConfig(teacher_views="sideways").validate()


def test_a_batch_of_square_and_wide_pictures_matches_each_alone(wide):
    square = np.random.default_rng(2).random((64, 64, 3), dtype=np.float32)
    both = Teacher(views="crop+whole")
    together = both.logits([square, wide, square])
    alone = np.concatenate([both.logits([square]), both.logits([wide]), both.logits([square])])
    np.testing.assert_allclose(together, alone, rtol=1e-4, atol=1e-4)


def test_the_teachers_views_key_its_cache(tmp_path, wide):
    """A cache of crop-only logits is never served to a teacher that also looks at the whole picture."""
    from PIL import Image

    from latentstudio.soundscape.data import _cached_view_logits

    path = tmp_path / "wide.png"
    Image.fromarray((wide * 255).astype(np.uint8)).save(path)
    cache = tmp_path / "cache"
    crop = _cached_view_logits(path, Teacher(), views=1, seed=0, cache=cache)
    both = _cached_view_logits(path, Teacher(views="crop+whole"), views=1, seed=0, cache=cache)
    assert len(list(cache.glob("*.npy"))) == 2 and not np.allclose(crop, both, atol=1e-3)
    again = _cached_view_logits(path, Teacher(views="crop+whole"), views=1, seed=0, cache=cache)
    np.testing.assert_array_equal(again, both)
