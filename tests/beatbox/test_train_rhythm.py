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
    assert meta["command"] == "latentstudio beatbox train-rhythm" and meta["seed"] == 7
    assert isinstance(load_rhythm_vae(out), RhythmVAE)
