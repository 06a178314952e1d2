"""latentstudio.train.fit: loss falls, checkpoints load, resume is exact, torchrun runs the same path."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from latentstudio.errors import ModelError, ParameterError
from latentstudio.train import TrainConfig, fit, latest_checkpoint, learning_rate, list_checkpoints
from latentstudio.zoo.checkpoint import load_checkpoint

SCRIPT = Path(__file__).with_name("_fit_script.py")
_spec = importlib.util.spec_from_file_location("latentstudio_tests_fit_script", SCRIPT)
job = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(job)


# tests/conftest.py runs every test on one torch thread (tiny models train fastest that way).


def _mse_on_fixed_set(model) -> float:
    data = job.Regression(256)
    model.eval()
    with torch.no_grad():
        return float(torch.nn.functional.mse_loss(model(data.x), data.y))


@pytest.mark.parametrize("kind", ["dataset", "callable"])
def test_loss_falls_and_checkpoint_loads(tmp_path, kind):
    torch.manual_seed(0)
    model = job.TinyMLP(width=32, dropout=0.1)
    before = _mse_on_fixed_set(model)
    model.train()
    calls = []
    data = job.Regression() if kind == "dataset" else job.make_batch
    res = fit(model, data=data, loss_fn=job.loss_fn, config=job.config(tmp_path / "ck"),
              progress=lambda step, total, loss: calls.append((step, total, loss)))
    assert res.steps_done == 40 and len(res.losses) == 40 and len(res.metrics["mae"]) == 40
    first, last = sum(res.losses[:10]) / 10, sum(res.losses[-10:]) / 10
    assert last < 0.3 * first, (first, last)
    assert [c[0] for c in calls] == [10, 20, 30, 40] and calls[-1][1] == 40
    # periodic checkpoints, newest two kept, each loadable on its own
    assert [p.name for p in list_checkpoints(tmp_path / "ck")] == ["step-00000030", "step-00000040"]
    assert res.checkpoint == latest_checkpoint(tmp_path / "ck")
    loaded, info = load_checkpoint(res.checkpoint)
    assert isinstance(loaded, job.TinyMLP) and info["config"] == {"width": 32, "dropout": 0.1}
    assert info["meta"]["train"]["step"] == 40 and len(info["meta"]["train"]["losses"]) == 40
    for a, b in zip(loaded.state_dict().values(), model.state_dict().values()):
        assert torch.equal(a, b)
    after = _mse_on_fixed_set(loaded)
    assert after < 0.2 * before, (before, after)
    assert not list((tmp_path / "ck").glob(".*part*"))


@pytest.mark.parametrize("kind", ["dataset", "callable"])
def test_resume_continues_exactly(tmp_path, kind):
    data = job.Regression() if kind == "dataset" else job.make_batch
    torch.manual_seed(0)
    straight = fit(job.TinyMLP(), data=data, loss_fn=job.loss_fn, config=job.config(tmp_path / "a"))

    calls = {"n": 0}

    def crashing_loss(model, batch):
        calls["n"] += 1
        if calls["n"] == 27:  # dies during step 26: the newest checkpoint is step 20
            raise KeyboardInterrupt
        return job.loss_fn(model, batch)

    torch.manual_seed(0)
    with pytest.raises(KeyboardInterrupt):
        fit(job.TinyMLP(), data=data, loss_fn=crashing_loss, config=job.config(tmp_path / "b"))
    assert latest_checkpoint(tmp_path / "b").name == "step-00000020"
    torch.manual_seed(1)  # a different fresh init: resume must overwrite it
    resumed = fit(job.TinyMLP(), data=data, loss_fn=job.loss_fn, config=job.config(tmp_path / "b"))
    assert resumed.resumed_from == 20
    assert resumed.losses == straight.losses  # bit-for-bit, from step 0
    assert resumed.metrics == straight.metrics
    a, _ = load_checkpoint(straight.checkpoint)
    b, _ = load_checkpoint(resumed.checkpoint)
    for ta, tb in zip(a.state_dict().values(), b.state_dict().values()):
        assert torch.equal(ta, tb)


def test_fit_leaves_callers_rng_alone(tmp_path):
    model = job.TinyMLP()
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    fit(model, data=job.make_batch, loss_fn=job.loss_fn, config=job.config(None, steps=3))
    assert torch.equal(torch.rand(3), expected)


def test_resume_refuses_another_run(tmp_path):
    fit(job.TinyMLP(), data=job.make_batch, loss_fn=job.loss_fn, config=job.config(tmp_path, steps=10))
    with pytest.raises(ParameterError, match="seed=7"):
        fit(job.TinyMLP(), data=job.make_batch, loss_fn=job.loss_fn,
            config=job.config(tmp_path, steps=20, seed=8))
    res = fit(job.TinyMLP(), data=job.make_batch, loss_fn=job.loss_fn,
              config=job.config(tmp_path, steps=20, seed=8, resume=False))
    assert res.resumed_from == 0 and len(res.losses) == 20


def test_schedule():
    cfg = TrainConfig(steps=100, lr=1.0, scheduler="cosine", warmup_steps=10, min_lr_ratio=0.1)
    lrs = [learning_rate(s, cfg) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert lrs[-1] == pytest.approx(0.1, abs=0.01)
    assert learning_rate(50, TrainConfig(steps=100, lr=0.3)) == 0.3


@pytest.mark.parametrize("field,value", [("steps", 0), ("batch_size", -1), ("lr", 0.0), ("lr", float("nan")),
                                         ("scheduler", "linear"), ("grad_clip", 0.0), ("seed", -3),
                                         ("device", "tpu"), ("log_every", 0)])
def test_bad_config_names_the_field(field, value):
    cfg = TrainConfig(steps=5, **{field: value}) if field != "steps" else TrainConfig(steps=value)
    with pytest.raises(ParameterError, match=field):
        fit(job.TinyMLP(), data=job.make_batch, loss_fn=job.loss_fn, config=cfg)


def test_bad_inputs():
    cfg = TrainConfig(steps=2, batch_size=8)
    with pytest.raises(ParameterError, match="model"):
        fit("not a model", data=job.make_batch, loss_fn=job.loss_fn, config=cfg)
    with pytest.raises(ParameterError, match="data"):
        fit(job.TinyMLP(), data=[1, 2, 3][:0], loss_fn=job.loss_fn, config=cfg)
    with pytest.raises(ParameterError, match="batch_size=8"):
        fit(job.TinyMLP(), data=job.Regression(4), loss_fn=job.loss_fn, config=cfg)
    with pytest.raises(ParameterError, match="loss_fn"):
        fit(job.TinyMLP(), data=job.make_batch, loss_fn=lambda m, b: 1.0, config=cfg)
    with pytest.raises(ParameterError, match="register_model"):
        fit(torch.nn.Linear(4, 1), data=job.make_batch, loss_fn=job.loss_fn,
            config=TrainConfig(steps=2, checkpoint_dir="unused"))
    with pytest.raises(ModelError, match="step 0"):
        fit(job.TinyMLP(), data=job.make_batch, config=cfg,
            loss_fn=lambda m, b: m(b[0]).sum() * float("nan"))


def _torchrun(checkpoint_dir: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           str(SCRIPT), str(checkpoint_dir), str(out), *args],
                          env=env, capture_output=True, text=True, timeout=300)


def test_torchrun_two_processes(tmp_path):
    """Same script under torchrun (2 ranks, gloo, DDP): loss falls, rank 0's checkpoints load."""
    out = tmp_path / "ddp.json"
    t0 = time.perf_counter()
    proc = _torchrun(tmp_path / "ck", out, "--data", "dataset")
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text())
    assert res["world_size"] == 2 and res["steps_done"] == 40
    first, last = sum(res["losses"][:10]) / 10, sum(res["losses"][-10:]) / 10
    assert last < 0.3 * first, (first, last)
    model, info = load_checkpoint(res["checkpoint"])
    assert info["meta"]["train"]["world_size"] == 2
    torch.manual_seed(0)  # the script's initialisation
    before = _mse_on_fixed_set(job.TinyMLP())
    assert _mse_on_fixed_set(model) < 0.2 * before, before
    print(f"torchrun run took {time.perf_counter() - t0:.1f} s")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["dataset", "callable"])
def test_torchrun_resume_is_exact(tmp_path, kind):
    """Both ranks die at step 26; relaunching resumes at step 20 and matches an uninterrupted run."""
    straight = tmp_path / "straight.json"
    assert _torchrun(tmp_path / "a", straight, "--data", kind).returncode == 0
    crashed = _torchrun(tmp_path / "b", tmp_path / "never.json", "--data", kind, "--crash-at", "27")
    assert crashed.returncode != 0 and not (tmp_path / "never.json").exists()
    assert latest_checkpoint(tmp_path / "b").name == "step-00000020"
    resumed = tmp_path / "resumed.json"
    proc = _torchrun(tmp_path / "b", resumed, "--data", kind)
    assert proc.returncode == 0, proc.stderr[-3000:]
    a, b = json.loads(straight.read_text()), json.loads(resumed.read_text())
    assert b["resumed_from"] == 20 and a["resumed_from"] == 0
    assert a["losses"] == b["losses"] and a["metrics"] == b["metrics"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_fit_and_resume(tmp_path):
    torch.manual_seed(0)
    straight = fit(job.TinyMLP(), data=job.Regression(), loss_fn=job.loss_fn,
                   config=job.config(tmp_path / "a", device="cuda"))
    assert sum(straight.losses[-10:]) < 0.3 * sum(straight.losses[:10])
    torch.manual_seed(0)
    fit(job.TinyMLP(), data=job.Regression(), loss_fn=job.loss_fn,
        config=job.config(tmp_path / "b", steps=20, device="cuda", scheduler="none"))
    model, _ = load_checkpoint(latest_checkpoint(tmp_path / "b"), device="cuda")
    assert next(model.parameters()).is_cuda
