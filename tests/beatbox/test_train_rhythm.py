"""``train_rhythm`` at tiny scale: the loss falls, the checkpoint rebuilds, the command and seed are recorded."""

import json

import numpy as np
from typer.testing import CliRunner

from latentstudio.beatbox.rhythm_vae import RhythmVAE, load_rhythm_vae, train_rhythm
from latentstudio.cli.main import app


def test_train_rhythm_tiny_loss_falls():
    model, report = train_rhythm(steps=80, batch_size=32, n_grammar=200, hidden=32, latent_dim=4, seed=1)
    assert isinstance(model, RhythmVAE) and report.train_patterns > 0
    losses = np.asarray(report.losses)
    assert np.all(np.isfinite(losses)) and losses[-10:].mean() < 0.8 * losses[:10].mean()


def test_train_rhythm_command_writes_a_checkpoint_that_rebuilds(tmp_path):
    out = tmp_path / "rhythm"
    r = CliRunner().invoke(app, ["beatbox", "train-rhythm", "-o", str(out), "--steps", "20", "--grammar", "200",
                                 "--seed", "7", "--json"])
    assert r.exit_code == 0, r.output
    record = json.loads((out / "config.json").read_text())
    meta = record["meta"]
    assert meta["command"] == "latentstudio beatbox train-rhythm --steps 20 --grammar 200 --seed 7"
    assert meta["seed"] == 7 and meta["threads"] == 1
    assert isinstance(load_rhythm_vae(out), RhythmVAE)
    printed = json.loads(r.stdout)
    assert printed["output"] == str(out) and printed["final_loss"] == meta["report"]["final_loss"]


def test_train_rhythm_model_writes_what_reproduces_it(tmp_path):
    from latentstudio.beatbox.pipeline import train_rhythm_model

    steps = []
    run = train_rhythm_model(tmp_path / "r", steps=15, grammar=200, seed=3,
                             progress=lambda step, total, loss: steps.append((step, total)))
    assert steps[-1] == (15, 15) and run.output == tmp_path / "r"
    summary = run.summary()
    assert "losses" not in summary and summary["final_loss"] == run.report.losses[-1]
    meta = json.loads((tmp_path / "r" / "config.json").read_text())["meta"]
    assert meta == json.loads(json.dumps(run.meta)) and meta["report"] == json.loads(json.dumps(summary))
    assert meta["command"] == "latentstudio beatbox train-rhythm --steps 15 --grammar 200 --seed 3"
    # the recorded settings reproduce the weights
    train_rhythm_model(tmp_path / "r2", steps=meta["steps"], grammar=meta["grammar"], seed=meta["seed"])
    first, second = load_rhythm_vae(tmp_path / "r"), load_rhythm_vae(tmp_path / "r2")
    assert all(np.array_equal(a.detach().numpy(), b.detach().numpy())
               for a, b in zip(first.parameters(), second.parameters()))


def test_train_rhythm_under_torchrun_two_ranks_report_once(tmp_path):
    """``torchrun --nproc_per_node 2 -m latentstudio beatbox train-rhythm``: DDP over gloo on the CPU; rank 0
    alone saves and reports (the beatbox trainers share one writer and one reporter)."""
    import os
    import subprocess
    import sys

    out = tmp_path / "rh"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "latentstudio", "beatbox", "train-rhythm", "-o", str(out), "--steps", "4",
                           "--grammar", "64", "--threads", "1", "--json"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)                      # one JSON object: the other rank printed nothing
    assert report["output"] == str(out)
    model = load_rhythm_vae(out)
    assert isinstance(model, RhythmVAE)
