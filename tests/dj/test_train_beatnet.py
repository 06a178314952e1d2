"""``train_beatnet`` at tiny scale: the loss falls, the checkpoint rebuilds, the command and seed are recorded."""

import json

import numpy as np

from latentstudio.dj.beatnet import BeatNet, train_beatnet
from latentstudio.zoo.checkpoint import load_checkpoint


def test_train_beatnet_tiny(tmp_path):
    losses = []
    report = train_beatnet(tmp_path / "net", n_tracks=2, steps=40, batch_size=2, crop_frames=200, dilations=(1, 2),
                           seed=3, progress=lambda step, total, loss: losses.append(loss))
    assert len(losses) >= 3 and np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    model, info = load_checkpoint(tmp_path / "net")
    assert isinstance(model, BeatNet) and info["config"]["dilations"] == [1, 2]
    meta = json.loads((tmp_path / "net" / "config.json").read_text())["meta"]
    assert meta["seed"] == 3 and meta["command"].startswith("latentstudio dj train-beats") and "--seed 3" in meta["command"]
    assert 0.0 <= report["val_f_measure"] <= 1.0
