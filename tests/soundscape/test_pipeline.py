"""The soundscape's end-to-end runs at the library level (``latentstudio.soundscape.pipeline``)."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from latentstudio import assets
from latentstudio.catalog import Catalog
from latentstudio.errors import AssetMissingError, ParameterError
from latentstudio.soundscape.index import index_sounds
from latentstudio.soundscape.evaluate import TEST_PICTURES, VALIDATION_PICTURES
from latentstudio.soundscape.pipeline import reference_images, soundscape_for_image, source_sounds, train_from_source
from latentstudio.soundscape.student import load_student


def _manifest(tmp_path, tone):
    rows = ["image,sound"]
    for i, colour in enumerate([(255, 0, 0), (0, 200, 0), (0, 0, 255), (250, 250, 0)]):
        Image.new("RGB", (40, 40), colour).save(tmp_path / f"i{i}.png")
        sf.write(tmp_path / f"s{i}.wav", tone(300 * (i + 1), 1.0), 16000)
        rows.append(f"i{i}.png,s{i}.wav")
    (tmp_path / "pairs.csv").write_text("\n".join(rows) + "\n")
    return str(tmp_path / "pairs.csv")


def test_train_from_source_writes_a_reproducible_model(tmp_path, monkeypatch, tone):
    monkeypatch.setenv("LATENTSTUDIO_CACHE", str(tmp_path / "cache"))
    steps = []
    out = tmp_path / "model"
    seen = []
    refs = tmp_path / "refs"
    (refs / "sub").mkdir(parents=True)
    for i, colour in enumerate([(10, 20, 30), (200, 100, 0), (90, 90, 90)]):
        Image.new("RGB", (32, 32), colour).save(refs / ("sub" if i else ".") / f"r{i}.png")
    (refs / "broken.jpg").write_bytes(b"not a picture")
    run = train_from_source(_manifest(tmp_path, tone), out, steps=4, batch_size=2, views=2, validation=0.0,
                            holdout=0.5, labels=False, seed=3, reference=str(refs),
                            progress=lambda s, t, loss: steps.append(s),
                            reference_progress=lambda done, total: seen.append((done, total)))
    assert run.report["pairs"] == 4 and run.report["train_pairs"] == 2 and run.report["steps"] == 4
    assert steps[-1] == 4 and run.report["seconds"] >= run.report["train_seconds"]
    assert (out / "model.safetensors").exists() and not (out / ".checkpoints").exists()
    meta = json.loads((out / "config.json").read_text())["meta"]
    assert meta["seed"] == 3 and "--no-labels" in meta["command"] and "--seed 3" in meta["command"]
    assert "--holdout 0.5" in meta["command"] and meta["distill"]["label_weight"] == 0.0
    side = json.loads((out / "model.json").read_text())
    assert side["command"] == "soundscape train" and side["params"]["views"] == 2 and side["seed"] == 3
    model, info = load_student(out)
    assert model.num_classes == 1000 and info["id"]
    # reference queries: the 2 training images and the 3 readable reference pictures (the broken one reported)
    assert model.reference.shape == (2 + 3, 1000) and np.allclose(model.reference.sum(axis=1), 1, atol=1e-2)
    ref = run.report["reference_queries"]
    assert ref["training_images"] == 2 and ref["pictures"] == 3 and ref["skipped"][0][0].endswith("broken.jpg")
    assert seen == [(i, 4) for i in range(1, 5)]                              # every picture reported, broken too
    assert f"--reference {refs}" in meta["command"] and meta["reference"] == str(refs)


def test_reference_images(tmp_path):
    assert reference_images("none") == []
    with pytest.raises(ParameterError, match="holds no images"):
        reference_images(str(tmp_path))
    with pytest.raises(ParameterError, match="nowhere"):
        reference_images(str(tmp_path / "nowhere"))
    try:
        stamps = assets.tuxpaint_stamps(raster_only=True)
    except AssetMissingError:
        pytest.skip("tuxpaint-stamps-default is not installed")
    pool = reference_images("tuxpaint")
    silent = {Path(s.image) for s in stamps if s.sound is None}
    assert set(pool) <= silent and len(pool) >= 0.9 * len(silent) > 100     # stamps without a sound
    held = {p.name for p in VALIDATION_PICTURES + TEST_PICTURES if p.source == "tuxpaint"}
    names = {f"{s.category}/{s.name}" for s in stamps if Path(s.image) in set(pool)}
    assert held and not names & held                                         # the evaluation pictures are not


def test_train_from_source_refuses_before_any_work(tmp_path):
    for kwargs, match in (({"validation": 0.6, "holdout": 0.5}, "nothing to train on"),
                          ({"holdout": 1.0}, "holdout"), ({"steps": 0}, "steps"),
                          ({"lr": float("nan")}, "lr"), ({"teacher_views": "sideways"}, "teacher_views")):
        with pytest.raises(ParameterError, match=match):
            train_from_source("tuxpaint", tmp_path / "m", **kwargs)
    with pytest.raises(ParameterError, match="does not exist"):
        train_from_source(str(tmp_path / "nowhere.csv"), tmp_path / "m")
    with pytest.raises(ParameterError, match="reference folder .*no-refs.* does not exist"):
        train_from_source("tuxpaint", tmp_path / "m", reference=str(tmp_path / "no-refs"))
    assert not (tmp_path / "m").exists()


def test_source_sounds(tmp_path, sound_dir):
    assert len(source_sounds("tuxpaint")) > 10
    names = [p.name for p in source_sounds(str(sound_dir))]
    assert names == ["corrupt.wav", "high.wav", "low.wav", "silent.wav"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match="no audio files"):
        source_sounds(str(tmp_path / "empty"))
    with pytest.raises(ParameterError, match="does not exist"):
        source_sounds(str(tmp_path / "nowhere"))


def test_soundscape_for_image_layers_the_matches(tmp_path, tiny_model_dir, sound_dir):
    model, info = load_student(tiny_model_dir)
    picture = np.random.default_rng(0).random((48, 64, 3)).astype(np.float32)
    with Catalog(tmp_path / "cat") as cat:
        index_sounds(source_sounds(str(sound_dir)), catalog=cat, model=model, model_id=info["id"])
        kwargs = dict(model=model, model_id=info["id"], catalog=cat, top=2, headings=1, seconds=2.0, sr=16000,
                      seed=1)
        scape = soundscape_for_image(picture, **kwargs)
        again = soundscape_for_image(picture, **kwargs)
        with pytest.raises(ParameterError, match="top"):
            soundscape_for_image(picture, model=model, model_id=info["id"], catalog=cat, top=0)
    assert scape.audio.shape == (2, 32000) and np.max(np.abs(scape.audio)) > 0.1
    assert np.array_equal(scape.audio, again.audio)
    assert {m.path.rsplit("/", 1)[-1] for m in scape.query.matches} == {"low.wav", "high.wav"}
    out = scape.save(tmp_path / "scene.flac", params={"seconds": 2.0})
    y, sr = sf.read(out)
    assert sr == 16000 and y.shape == (32000, 2)
    side = json.loads((tmp_path / "scene.json").read_text())
    assert side["models"] == [f"soundscape_student:{info['id']}"] and len(side["result"]["matches"]) == 2
