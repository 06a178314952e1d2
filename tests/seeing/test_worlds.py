import pytest

from latentstudio.errors import AssetMissingError, ParameterError
from latentstudio.seeing import worlds
from latentstudio.seeing.worlds import load_world, unrelated_inputs


def test_folder_world_dedupes_and_splits_by_photograph(world_dir):
    w = load_world(world_dir, short_side=64)
    names = [p.name for p in w.train + w.validation]
    assert len(names) == 3                      # copy.png is coffee.png: one origin
    assert len(w.validation) == 1 and len(w.train) == 2
    assert not {p.sha1 for p in w.train} & {p.sha1 for p in w.validation}
    assert all(min(p.pixels.shape[:2]) <= 64 for p in w.train)
    again = load_world(world_dir, short_side=64)
    assert [p.sha1 for p in again.validation] == [p.sha1 for p in w.validation]


def test_world_errors_name_the_input(tmp_path, monkeypatch):
    with pytest.raises(ParameterError, match="nowhere"):
        load_world(tmp_path / "nowhere")
    with pytest.raises(ParameterError, match="holds no images"):
        load_world(tmp_path)
    monkeypatch.setitem(worlds.WORLDS, "moon", (("some-backgrounds", str(tmp_path / "missing.jpg")),
                                                ("some-backgrounds", str(tmp_path / "missing2.jpg"))))
    with pytest.raises(AssetMissingError, match="apt-get install -y some-backgrounds"):
        load_world("moon")


def test_world_needs_enough_photographs(world_dir):
    with pytest.raises(ParameterError, match="distinct picture"):
        load_world(world_dir, validation=3)


def test_unrelated_inputs_are_square_and_varied():
    items = unrelated_inputs(n_faces=2, n_stamps=0, size=64)
    assert len(items) == len(worlds.UNRELATED_SAMPLES) + 2
    assert all(a.shape == (64, 64, 3) for _, a in items)
    assert len({n for n, _ in items}) == len(items)


def test_validation_inputs_never_touch_the_test_inputs():
    from latentstudio.seeing.worlds import VALIDATION_SAMPLES, validation_inputs

    assert not set(VALIDATION_SAMPLES) & set(worlds.UNRELATED_SAMPLES)
    items = validation_inputs(n_faces=0, n_stamps=0, size=48)
    assert [n for n, _ in items] == list(VALIDATION_SAMPLES) and all(a.shape == (48, 48, 3) for _, a in items)


def test_validation_faces_and_stamps_are_of_the_test_kinds_but_never_the_test_pictures():
    from latentstudio import assets
    from latentstudio.errors import AssetMissingError
    from latentstudio.seeing.worlds import TEST_FACES, TEST_STAMPS, VALIDATION_SAMPLES, validation_inputs

    try:
        stamps = assets.tuxpaint_stamps(raster_only=True)
    except AssetMissingError:
        pytest.skip("tuxpaint-stamps-default is not installed")
    test = unrelated_inputs(size=32)
    val = validation_inputs(size=32)
    test_names, val_names = [n for n, _ in test], [n for n, _ in val]
    extra = val_names[len(VALIDATION_SAMPLES):]
    assert sum(n.startswith("face") for n in extra) == TEST_FACES
    assert sum(n.startswith("stamp:") for n in extra) == TEST_STAMPS
    assert not set(extra) & set(test_names)            # same kinds, other pictures
    by_stem = {s.image.stem: s for s in stamps}
    assert not any(by_stem[n[6:]].category.startswith("plants") for n in extra if n.startswith("stamp:"))
    assert val_names == [n for n, _ in validation_inputs(size=32)]      # seeded: the same every time
    # the faces are faces: scikit-image's lfw_subset holds 100 faces, then 100 patches that are not
    faces = [int(n[4:]) for n in test_names + val_names if n.startswith("face")]
    assert len(faces) == 2 * TEST_FACES and all(0 <= i < worlds.LFW_FACES for i in faces)
