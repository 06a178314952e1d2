"""Time budgets: schedules scaled to the seconds, deadlines honoured, held-out judges kept out of the search,
and the bench's protocol (a fixed test draw disjoint from the development classes)."""
import importlib.util
import math
import sys
import time
from pathlib import Path

import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.perception import gradient_plan, perceive, random_drawings
from latentstudio.perception.ensemble import Ensemble
from latentstudio.perception.schedule import REFERENCE, greedy_evals, time_schedule


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_tiny = _load("_tiny", Path(__file__).with_name("_tiny.py"))
ROOT = Path(__file__).resolve().parents[2]


def _cost(s: dict, *, step_s: float, eval_s: float, n_strokes: int) -> float:
    """Estimated seconds of a hybrid schedule (as time_schedule counts them)."""
    greedy = greedy_evals(n_strokes, s["candidates"]) * eval_s
    return (s["restarts"] * (greedy + s["scout_steps"] * step_s) + s["grad_steps"] * step_s
            + s["es_iters"] // 3 * (s["population"] + 1) * eval_s)


@pytest.mark.parametrize("seconds", [20, 60, 180, 600])
def test_time_schedule_fits_and_scales(seconds):
    kw = dict(step_s=0.4, eval_s=0.07, planner="hybrid", n_strokes=12)
    s = time_schedule(seconds, **kw)
    assert set(s) == set(REFERENCE)
    assert _cost(s, step_s=0.4, eval_s=0.07, n_strokes=12) <= seconds * 1.02
    more = time_schedule(seconds * 2, **kw)
    assert more["grad_steps"] > s["grad_steps"]
    if seconds >= 180:
        assert s["restarts"] == 3 and s["scout_steps"] > 0
    if seconds <= 20:
        assert s["restarts"] == 1 and s["scout_steps"] == 0


def test_time_schedule_other_planners_and_bad_input():
    g = time_schedule(30, step_s=0.5, eval_s=0.1, planner="grad", n_strokes=12)
    assert g["grad_steps"] == int(30 * 0.98 / 0.5) and g["es_iters"] == 0
    e = time_schedule(30, step_s=0.5, eval_s=0.1, planner="es", n_strokes=12)
    assert e["grad_steps"] == 0 and e["es_iters"] >= 1
    with pytest.raises(ParameterError, match="seconds"):
        time_schedule(0, step_s=0.5, eval_s=0.1, planner="hybrid", n_strokes=12)


def _models():
    return [_tiny.tiny_classifier(0), _tiny.tiny_classifier(1, input_size=40)]


@pytest.fixture(scope="module")
def warm():
    """One search first: the process's one-time start-up (lazy imports, kernels) is not the budget's to honour."""
    perceive(3, models=_models(), holdout=[], n_strokes=4, budget=0.5, seed=0)


@pytest.mark.parametrize("planner", ["hybrid", "es", "grad"])
def test_time_budget_is_honoured(warm, planner):
    t0 = time.perf_counter()
    res = perceive(3, models=_models(), holdout=[_tiny.tiny_classifier(2)], planner=planner, n_strokes=4,
                   budget=3.0, seed=0)
    wall = time.perf_counter() - t0
    assert wall <= 3.0 + 0.75 and res.seconds <= 3.0 + 0.75            # (a shared CI machine: some slack)
    assert res.budget_seconds == 3.0 and res.to_dict()["budget_seconds"] == 3.0
    assert res.schedule and res.to_dict()["schedule"] == res.schedule
    assert [r["role"] for r in res.report] == ["ensemble", "ensemble", "holdout"]


def test_deadline_cuts_a_schedule_that_was_too_long(warm, monkeypatch):
    """When the measured costs are far too low, the deadlines inside the phases still end the search."""
    mod = sys.modules["latentstudio.perception.perceive"]
    monkeypatch.setattr(mod, "_measure_costs", lambda *a, **k: (1e-6, 1e-6))
    t0 = time.perf_counter()
    res = perceive(3, models=_models(), holdout=[], n_strokes=4, budget=2.0, seed=0)
    assert time.perf_counter() - t0 <= 2.0 + 0.75
    assert res.schedule["scout_steps"] > 10_000            # planned far more than it could run
    phases = [p for p, _, _ in res.history]
    assert "greedy" in phases and res.reward > 0


def test_gradient_plan_stops_at_its_deadline():
    ens = Ensemble(_models(), target=3)
    d0 = random_drawings(1, n_strokes=4, generator=torch.Generator().manual_seed(0))[0]
    d, hist = gradient_plan(ens, d0, generator=torch.Generator().manual_seed(1), steps=100_000, views=1,
                            deadline=time.perf_counter() + 0.3)
    assert 1 <= len(hist) < 100_000 and d.shape == d0.shape


def test_progress_callback_sees_every_phase():
    seen = []
    perceive(3, models=_models(), holdout=[], n_strokes=4, budget=1.0, seed=0,
             callback=lambda phase, it, value: seen.append((phase, value)))
    assert {p for p, _ in seen} >= {"greedy", "grad"}
    assert all(math.isfinite(v) and v <= 1e-6 for p, v in seen if p != "grad")    # log rewards


@pytest.mark.parametrize("objective,views", [("logit", "print"), ("margin", "diverse")])
def test_objectives_and_views_run(objective, views):
    res = perceive(3, models=_models(), holdout=[], n_strokes=4, budget="small", seed=0, objective=objective,
                   views=views)
    assert res.reward > 0 and res.drawing.min() >= 0


def test_holdout_in_the_ensemble_is_refused():
    m = _tiny.tiny_classifier(0)
    with pytest.raises(ParameterError, match="holdout='tiny0'.*ensemble"):
        perceive(3, models=[m, _tiny.tiny_classifier(1)], holdout=[m], budget="small")
    with pytest.raises(ParameterError, match="holdout='efficientnet_lite1'"):
        perceive("goldfish", models=["efficientnet_lite0", "efficientnet_lite1"], holdout=["efficientnet_lite1"])
    twin = _tiny.tiny_classifier(5)
    twin.name = "tiny0"                                     # another module with an ensemble member's name
    with pytest.raises(ParameterError, match="holdout"):
        perceive(3, models=[m], holdout=[twin], budget="small")


def test_bench_test_draw_is_fixed_and_never_a_development_class():
    bench = _load("bench_perceive", ROOT / "bench" / "perceive.py")
    from latentstudio.perception import load_blacklist
    from latentstudio.zoo import class_index

    draw = bench.test_classes()
    assert draw == bench.test_classes() and len(draw) == bench.TEST_SIZE == 20
    idx = {class_index(c) for c in draw}
    assert len(idx) == 20
    assert not idx & set(bench.dev_indices()) and not idx & set(load_blacklist())
    assert {"teapot", "monarch butterfly", "goldfish"} <= set(bench.DEV_CLASSES)
    lo, hi = bench.bootstrap_interval([1.0] * 10 + [0.0] * 10)
    assert lo < 0.5 < hi and 0 <= lo and hi <= 1
    rows = [{"class": c, "seed": s, "holdout_top5": c == "a", "ensemble_top5": True,
             "holdout_rank": 3 if c == "a" else 50, "holdout_logprob": -1.0, "ensemble_ranks": [1, 1],
             "wall_s": 10.0} for c in "ab" for s in (0, 1)]
    summ = bench.summarise(rows)
    assert summ["holdout_top5_rate"] == 0.5 and summ["ensemble_top5_rate"] == 1.0
    assert summ["holdout_top5_rate_per_seed"] == [0.5, 0.5] and summ["median_holdout_rank"] == 26.5


def test_worst_member_reduction():
    ens = Ensemble(_models(), target=3, reduce="worst")
    lp = torch.tensor([[-0.1, -5.0], [-2.0, -2.0]])
    got = ens.combine(lp)
    assert got[0] < -5.0 + 1e-6 and got[0] > -5.1 and got[1] == pytest.approx(-2.0 - math.log(2))
    d0 = random_drawings(1, n_strokes=4, generator=torch.Generator().manual_seed(0))[0]
    worst0 = float(ens.log_probs(d0[None]).min())
    d, _ = gradient_plan(ens, d0, generator=torch.Generator().manual_seed(1), steps=25, views=1, lr=0.4)
    assert float(ens.log_probs(d[None]).min()) > worst0             # the weaker member's score rose
    res = perceive(3, models=_models(), holdout=[], n_strokes=4, budget="small", seed=0, reduce="worst")
    assert res.reward > 0
    with pytest.raises(ParameterError, match="reduce"):
        perceive(3, models=_models(), holdout=[], budget="small", reduce="mean")
    with pytest.raises(ParameterError, match="reduce"):
        Ensemble(_models(), target=3, reduce="mean")


def test_gradient_plan_in_seconds_fills_its_time():
    ens = Ensemble(_models(), target=3)
    d0 = random_drawings(1, n_strokes=4, generator=torch.Generator().manual_seed(0))[0]
    t0 = time.perf_counter()
    d, hist = gradient_plan(ens, d0, generator=torch.Generator().manual_seed(1), steps=10**7, views=1, lr=0.4,
                            seconds=0.6)
    wall = time.perf_counter() - t0
    assert 0.55 <= wall <= 0.6 + 0.4 and len(hist) > 5
    assert float(ens.log_reward(d[None])[0]) > float(ens.log_reward(d0[None])[0])
    with pytest.raises(ParameterError, match="seconds"):
        gradient_plan(ens, d0, generator=torch.Generator(), steps=2, seconds=0)


def test_hub_contrast_lowers_the_score_of_hub_looking_drawings_and_the_search_escapes_them():
    """find_hubs names the classes random strokes already look like; with hub_weight each model's score is
    log p(target) - w log(1 + p(hubs) / p(target)): of two drawings equally sure of the target the one nearer
    the hubs scores lower, no score rises above log p(target) (a drawing cannot win by only shunning the
    hubs), and a gradient search under the contrast leaves the hubs lower than one without it."""
    from latentstudio.optvis.objectives import LOGITS
    from latentstudio.perception.ensemble import find_hubs
    from latentstudio.perception.renderer import render

    models = _models()
    hubs = find_hubs(models, n=16, n_strokes=4, top=3, generator=torch.Generator().manual_seed(0))
    assert len(set(hubs)) == 3 and all(0 <= h < 10 for h in hubs)
    target = next(c for c in range(10) if c not in hubs)
    plain = Ensemble(models, target=target)
    ens = Ensemble(models, target=target, hubs=[*hubs, target, hubs[0]], hub_weight=1.0)
    assert ens.hubs == sorted(hubs)                                # the target is never its own hub; no repeats
    lp = torch.log_softmax(torch.zeros(3, 10), dim=1).clone()
    lp[:2, target] = math.log(0.5)
    lp[0, hubs] = math.log(0.4 / 3)                                # drawing 0 leans on the hubs
    lp[1, hubs] = math.log(0.01)
    lp[2, target], lp[2, hubs] = math.log(0.05), math.log(1e-9)    # unsure of the target, shuns the hubs
    s = ens.score(lp)
    assert s[0] < s[1] and plain.score(lp)[0] == plain.score(lp)[1]
    assert torch.all(s <= lp[:, target] + 1e-6) and s[2] < s[1]
    d0 = random_drawings(1, n_strokes=4, generator=torch.Generator().manual_seed(0))[0]

    def hub_mass(d):
        with torch.no_grad():
            return sum(float(torch.logsumexp(torch.log_softmax(fm(render(d[None], size=fm.input_size),
                                                                  layers={LOGITS})[LOGITS], dim=1)[0, hubs], dim=0))
                       for fm in ens.models)

    with_c, _ = gradient_plan(ens, d0, generator=torch.Generator().manual_seed(1), steps=25, views=1, lr=0.4)
    without, _ = gradient_plan(plain, d0, generator=torch.Generator().manual_seed(1), steps=25, views=1, lr=0.4)
    assert hub_mass(with_c) < hub_mass(without)
    runs = [perceive(target, models=models, holdout=[], n_strokes=4, budget="small", seed=0, hub_weight=w)
            for w in (0.0, 0.5)]
    assert [h[2] for h in runs[0].history] != [h[2] for h in runs[1].history]
    with pytest.raises(ParameterError, match="outside"):
        Ensemble(models, target=target, hubs=[50], hub_weight=1.0).score(lp)
    for bad in (-1, float("nan"), True, 10):
        with pytest.raises(ParameterError, match="hub_weight"):
            Ensemble(models, target=target, hubs=hubs, hub_weight=bad)
        with pytest.raises(ParameterError, match="hub_weight"):
            perceive(target, models=["no-such-model"], holdout=[], budget="small", hub_weight=bad)
