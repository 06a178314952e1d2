import importlib.util
from pathlib import Path

import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.perception import (Ensemble, es_refine, gradient_plan, greedy_build, judge, load_blacklist, perceive,
                                     random_drawings, resolve_target)
from latentstudio.perception.perceive import check_print_size

_spec = importlib.util.spec_from_file_location("_tiny", Path(__file__).with_name("_tiny.py"))
_tiny = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tiny)


@pytest.fixture(scope="module")
def ens():
    return Ensemble([_tiny.tiny_classifier(0), _tiny.tiny_classifier(1, input_size=40)], target=3)


def test_greedy_beats_random(ens):
    g = torch.Generator().manual_seed(0)
    d, hist = greedy_build(ens, n_strokes=6, generator=g, candidates=16)
    assert d.shape == (3 + 6 * 8,) and len(hist) == 2
    rand = ens.log_reward(random_drawings(32, n_strokes=6, generator=g))
    assert float(ens.log_reward(d[None])[0]) > float(rand.median())


def test_es_improves(ens):
    g = torch.Generator().manual_seed(1)
    d0 = random_drawings(1, n_strokes=6, generator=g)[0]
    r0 = float(ens.log_reward(d0[None])[0])
    d, hist = es_refine(ens, d0, generator=g, population=16, sigma=0.05, lr=0.03, max_iters=15)
    assert all(b >= a for a, b in zip(hist, hist[1:]))          # best-so-far never falls
    assert float(ens.log_reward(d[None])[0]) > r0
    assert float(d.min()) >= 0.01 - 1e-6 and float(d.max()) <= 0.99 + 1e-6


def test_gradient_planner_improves(ens):
    g = torch.Generator().manual_seed(2)
    d0 = random_drawings(1, n_strokes=6, generator=g)[0]
    r0 = float(ens.log_reward(d0[None])[0])
    d, hist = gradient_plan(ens, d0, generator=g, steps=25, views=2, lr=0.1)
    assert float(ens.log_reward(d[None])[0]) > r0 + 0.1
    assert len(hist) == 25


@pytest.mark.parametrize("planner", ["es", "grad", "hybrid"])
def test_perceive_reports_every_model(planner):
    models = [_tiny.tiny_classifier(0), _tiny.tiny_classifier(1, input_size=40)]
    res = perceive(3, models=models, holdout=[_tiny.tiny_classifier(2, input_size=48)], planner=planner,
                   n_strokes=5, budget="small", seed=0)
    assert [r["role"] for r in res.report] == ["ensemble", "ensemble", "holdout"]
    for row in res.report:
        assert 0 <= row["prob"] <= 1 and 1 <= row["rank"] <= 10 and len(row["top5"]) == 5
    assert res.reward == pytest.approx(res.report[0]["prob"] * res.report[1]["prob"])
    assert res.history and res.label == "class3"


def test_judge_rank():
    m = _tiny.tiny_classifier(0)
    d = random_drawings(1, n_strokes=3, generator=torch.Generator().manual_seed(0))[0]
    rows = judge([Ensemble([m], target=0).models[0]], d, target=0, role="holdout")
    top_label = rows[0]["top5"][0][0]
    assert (rows[0]["rank"] == 1) == (top_label == "class0")


def test_blacklist_and_random_target():
    banned = load_blacklist()
    assert len(banned) >= 20 and 419 in banned          # Band-Aid
    g = torch.Generator().manual_seed(0)
    picks = {resolve_target("random", generator=g) for _ in range(50)}
    assert not picks & set(banned)
    assert resolve_target("goldfish", generator=g) == 1


def test_bad_input():
    with pytest.raises(ParameterError, match="planner"):
        perceive(1, models=[_tiny.tiny_classifier(0)], holdout=[], planner="nope")
    with pytest.raises(ParameterError, match="budget"):
        perceive(1, models=[_tiny.tiny_classifier(0)], holdout=[], budget="huge")
    with pytest.raises(ParameterError, match="goldfish"):
        perceive("goldfsh", models=[_tiny.tiny_classifier(0)], holdout=[])
    with pytest.raises(ParameterError, match="at least one model"):
        perceive(1, models=[], holdout=[])
    for bad in (-1, 0, float("nan"), float("inf"), True, [3]):
        with pytest.raises(ParameterError, match="budget"):
            perceive(1, models=[_tiny.tiny_classifier(0)], holdout=[], budget=bad)
    with pytest.raises(ParameterError, match="objective"):
        perceive(1, models=[_tiny.tiny_classifier(0)], holdout=[], objective="nope")
    with pytest.raises(ParameterError, match="views"):
        perceive(1, models=[_tiny.tiny_classifier(0)], holdout=[], views="nope")
    for size in (0, 15, 16385, 2.5):
        with pytest.raises(ParameterError, match="size="):
            check_print_size(size)
    with pytest.raises(ParameterError):
        es_refine(Ensemble([_tiny.tiny_classifier(0)], target=1), torch.rand(11), generator=torch.Generator(),
                  population=1)


@pytest.mark.parametrize("parametrisation", ["box", "sigmoid"])
def test_gradient_planner_stays_in_box(ens, parametrisation):
    g = torch.Generator().manual_seed(3)
    d0 = random_drawings(1, n_strokes=6, generator=g)[0]
    r0 = float(ens.log_reward(d0[None])[0])
    d, _ = gradient_plan(ens, d0, generator=g, steps=25, views=2, lr=0.4, parametrisation=parametrisation)
    assert float(d.min()) >= 0.01 - 1e-6 and float(d.max()) <= 0.99 + 1e-6
    assert float(ens.log_reward(d[None])[0]) > r0
    with pytest.raises(ParameterError, match="parametrisation"):
        gradient_plan(ens, d0, generator=g, steps=2, parametrisation="tanh")


def test_restarts_keep_the_best_start():
    models = [_tiny.tiny_classifier(0), _tiny.tiny_classifier(1, input_size=40)]
    budget = dict(candidates=6, es_iters=0, grad_steps=5, views=1, population=4, restarts=3, scout_steps=4)
    phases = []
    res = perceive(3, models=models, holdout=[], n_strokes=4, budget=budget, seed=0,
                   callback=lambda phase, it, v: phases.append(phase))
    # three greedy build-ups, each followed by a scouting gradient run, then the final gradient run
    assert phases.count("grad") == 3 * 4 + 5
    assert res.reward > 0 and len(res.report) == 2


def test_gradient_planner_keeps_the_best_late_iterate(ens):
    """In the last fifth the edges are crisp and, without transforms, the objective is a function of the
    drawing: the kept drawing scores the best of those steps, never below the last iterate."""
    d0 = random_drawings(1, n_strokes=6, generator=torch.Generator().manual_seed(4))[0]
    kw = dict(steps=30, views=1, lr=0.8)                 # a large rate, so the walk is not monotone
    best, hist = gradient_plan(ens, d0, generator=torch.Generator().manual_seed(5), keep="best", **kw)
    last, hist2 = gradient_plan(ens, d0, generator=torch.Generator().manual_seed(5), keep="last", **kw)
    assert hist == hist2
    score = lambda d: float(ens.log_probs(d[None], softness=1.0001).sum())  # noqa: E731
    assert score(best) == pytest.approx(max(hist[24:]), abs=1e-4)
    assert score(best) >= score(last) - 1e-4
    with pytest.raises(ParameterError, match="keep"):
        gradient_plan(ens, d0, generator=torch.Generator(), steps=2, keep="first")


def test_result_saves_print_svg_and_sidecar(tmp_path):
    import json

    from PIL import Image

    res = perceive(3, models=[_tiny.tiny_classifier(0)], holdout=[_tiny.tiny_classifier(2, input_size=48)],
                   planner="grad", n_strokes=3, budget="small", seed=0)
    d = res.to_dict()
    assert d["target"] == "class3" and d["target_index"] == 3 and d["reward"] == res.reward
    assert len(d["drawing"]) == res.drawing.numel() and [m["role"] for m in d["models"]] == ["ensemble", "holdout"]
    out, svg = res.save(tmp_path / "draw.png", size=64, seed=0, params={"strokes": 3})
    assert svg == tmp_path / "draw.svg" and svg.read_text().lstrip().startswith("<")
    assert Image.open(out).size == (64, 64)
    side = json.loads((tmp_path / "draw.json").read_text())
    assert side["models"] == [m["model"] for m in res.report] and side["params"] == {"strokes": 3}
    assert side["result"]["output"] == str(out) and side["result"]["svg"] == str(svg)
    only_svg, same = res.save(tmp_path / "vector.svg", size=64)
    assert only_svg == same and sorted(p.name for p in tmp_path.iterdir()) == [
        "draw.json", "draw.png", "draw.svg", "vector.json", "vector.svg"]
    for bad in ({"output": tmp_path / "x.txt"}, {"output": tmp_path / "x.png", "size": 4}):
        with pytest.raises(ParameterError):
            res.save(**bad)
    assert not (tmp_path / "x.png").exists()
