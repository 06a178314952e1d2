import numpy as np
import pytest
from PIL import Image

from latentstudio.catalog import Catalog
from latentstudio.core.image import load
from latentstudio.errors import ParameterError
from latentstudio.soundscape.index import index_sounds, library_size, sound_files
from latentstudio.soundscape.query import query_image
from latentstudio.soundscape.student import load_student


def test_index_is_incremental_and_skips_bad_files(tmp_path, tiny_model_dir, sound_dir):
    model, info = load_student(tiny_model_dir)
    files = sound_files(sound_dir)
    assert [f.name for f in files] == ["corrupt.wav", "high.wav", "low.wav", "silent.wav"]
    with Catalog(tmp_path / "cat") as cat:
        r1 = index_sounds(files, catalog=cat, model=model, model_id=info["id"])
        assert sorted(p.split("/")[-1] for p in r1.added) == ["high.wav", "low.wav"]
        reasons = dict((p.split("/")[-1], why) for p, why in r1.failed)
        assert "silent" in reasons["silent.wav"] and "corrupt.wav" in reasons["corrupt.wav"]
        assert r1.realtime_factor > 0
        r2 = index_sounds(files, catalog=cat, model=model, model_id=info["id"])
        assert r2.added == [] and len(r2.skipped) == 2 and len(r2.failed) == 2
        assert library_size(cat, info["id"]) == 2                  # nothing lost, nothing doubled
        copy = sound_dir / "copy_of_low.wav"
        copy.write_bytes((sound_dir / "low.wav").read_bytes())
        r3 = index_sounds([copy], catalog=cat, model=model, model_id=info["id"])
        assert r3.added == [] and r3.skipped == [str(copy)]        # a copy's content is already embedded
        assert library_size(cat, info["id"]) == 2


def _write(tmp_path, name, arr, mode=None):
    p = tmp_path / name
    (Image.fromarray(arr, mode) if mode else Image.fromarray(arr)).save(p)
    return p


def test_query_odd_images_and_empty_library(tmp_path, tiny_model_dir, sound_dir):
    model, info = load_student(tiny_model_dir)
    rng = np.random.default_rng(0)
    with Catalog(tmp_path / "cat") as cat:
        with pytest.raises(ParameterError, match="empty"):
            query_image(np.zeros((32, 32, 3), np.float32), model=model, model_id=info["id"], catalog=cat)
        index_sounds(sound_files(sound_dir), catalog=cat, model=model, model_id=info["id"])
        images = [
            _write(tmp_path, "rgba.png", rng.integers(0, 255, (40, 60, 4), dtype=np.uint8)),
            _write(tmp_path, "grey.png", rng.integers(0, 255, (40, 60), dtype=np.uint8)),
            _write(tmp_path, "deep.png", rng.integers(0, 65535, (40, 60), dtype=np.uint16)),
            _write(tmp_path, "tiny.png", rng.integers(0, 255, (1, 1, 3), dtype=np.uint8)),
        ]
        for p in images:
            res = query_image(load(p), model=model, model_id=info["id"], catalog=cat, top=5)
            assert 1 <= len(res.matches) <= 2 and len(res.teacher_labels) == 5
            assert res.matches[0].score >= res.matches[-1].score
        wide = query_image(rng.random((50, 200, 3)).astype(np.float32), model=model, model_id=info["id"],
                           catalog=cat, top=2, headings=None)
        assert len(wide.headings) == 4 and {m.pan for m in wide.matches} <= {-1.0, -0.333, 0.333, 1.0}
        with pytest.raises(ParameterError, match="top"):
            query_image(load(images[0]), model=model, model_id=info["id"], catalog=cat, top=0)
