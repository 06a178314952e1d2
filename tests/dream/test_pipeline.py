"""A dream from its options at the library level (``latentstudio.dream.pipeline``), on a tiny seeded net."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from latentstudio.dream.pipeline import dream_from_options, fit_image, objective_from_options
from latentstudio.errors import ParameterError
from latentstudio.optvis import FeatureModel

_spec = importlib.util.spec_from_file_location("_nets", Path(__file__).parents[1] / "optvis" / "_nets.py")
_nets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_nets)


@pytest.fixture(scope="module")
def fm():
    return FeatureModel(_nets.tiny_net(0))


@pytest.fixture(scope="module")
def picture():
    rng = np.random.default_rng(0)
    return rng.random((40, 56, 3)).astype(np.float32)


def test_objective_from_options_builds_the_objective_named(fm, picture):
    assert objective_from_options(fm, picture, layers=["3"]).name == "deepdream(3)"
    assert objective_from_options(fm, picture, layers="3").name == "deepdream(3)"
    both = objective_from_options(fm, picture, layers=["3", "6:1,2"])
    assert both.name == "deepdream(3) + deepdream(6, channels=[1, 2])" and both.layers == {"3", "6"}
    one = objective_from_options(fm, picture, layers=["6"], channels=[4])
    assert one.name == "deepdream(6, channels=[4])"
    guided = objective_from_options(fm, picture, layers=["6"], guide=picture[::-1].copy(), strongest=2)
    assert guided.name == "guided(6)"                                   # a guide takes precedence


def test_strongest_channels_are_the_most_active(fm, picture):
    obj = objective_from_options(fm, picture, layers=["6"], strongest=2)
    with torch.no_grad():
        acts = fm(torch.from_numpy(picture).permute(2, 0, 1)[None], layers={"6"})["6"]
    top = sorted(torch.argsort(acts.abs().mean(dim=(0, 2, 3)), descending=True)[:2].tolist())
    assert obj.name == f"deepdream(6, channels={top})"


def test_objective_from_options_refuses_bad_options(fm, picture):
    with pytest.raises(ParameterError, match="valid layers"):
        objective_from_options(fm, picture, layers=["no.such.layer"])
    with pytest.raises(ParameterError, match="valid layers"):
        objective_from_options(fm, picture, layers=["nope"], guide=picture)
    with pytest.raises(ParameterError, match="strongest"):
        objective_from_options(fm, picture, layers=["6"], strongest=100)
    with pytest.raises(ParameterError, match="needs the image"):
        objective_from_options(fm, None, layers=["6"], strongest=2)
    with pytest.raises(ParameterError, match="at least one layer"):
        objective_from_options(fm, picture, layers=[])


def test_fit_image_keeps_the_aspect(picture):
    assert fit_image(picture, 0) is picture and fit_image(picture, 100) is picture
    assert fit_image(picture, 28).shape == (20, 28, 3)
    with pytest.raises(ParameterError):
        fit_image(picture, -1)


def test_dream_from_options_raises_the_objective(fm, picture):
    calls = []
    run = dream_from_options(picture, model=fm, layers=["6"], octaves=2, steps=3, max_side=48,
                             progress=lambda: calls.append(1))
    assert run.image.shape == (34, 48, 3) and (run.width, run.height) == (48, 34)
    assert run.objective == "deepdream(6)" and run.gain > 1 and len(calls) == 6
    assert set(run.summary()) == {"initial_score", "final_score", "gain"}
    video = dream_from_options(picture, model=fm, layers=["6"], octaves=1, steps=1, zoom_frames=3, zoom=1.1)
    assert len(video.frames) == 3 and video.summary() == {"frames": 3, "zoom": 1.1} and video.image is None
    with pytest.raises(ParameterError, match="zoom_frames"):
        dream_from_options(picture, model=fm, zoom_frames=-1)


def test_dream_run_saves_image_or_video_with_provenance(fm, picture, tmp_path):
    import json

    from latentstudio.core.image import load

    run = dream_from_options(picture, model=fm, layers=["6"], octaves=1, steps=2, seed=5)
    assert run.model == fm.name and run.seed == 5
    report = run.save(tmp_path / "d.png", command="dream", params={"steps": 2})
    assert report == {**run.to_dict(), "output": str(tmp_path / "d.png")} and report["gain"] == run.gain
    assert load(tmp_path / "d.png").shape == picture.shape
    side = json.loads((tmp_path / "d.json").read_text())
    assert side["seed"] == 5 and side["models"] == [fm.name] and side["params"] == {"steps": 2}
    assert side["result"]["objective"] == "deepdream(6)"
    video = dream_from_options(picture, model=fm, layers=["6"], octaves=1, steps=1, zoom_frames=2, zoom=1.1)
    rep = video.save(tmp_path / "z.gif", fps=5)
    assert rep["frames"] == 2 and rep["fps"] == 5 and (tmp_path / "z.gif").stat().st_size > 0
    with pytest.raises(ParameterError, match=".mp4"):
        video.save(tmp_path / "z.png")                    # frames need a video
    with pytest.raises(ParameterError, match="must end with"):
        run.save(tmp_path / "d.mp4")                      # a still image is no video
    assert not (tmp_path / "z.png").exists() and not (tmp_path / "d.mp4").exists()
    for octaves in (0, 21):
        with pytest.raises(ParameterError, match="octaves"):
            dream_from_options(picture, model=fm, octaves=octaves)
