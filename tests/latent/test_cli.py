"""The ``latentstudio latent`` commands end to end on a tiny CSV (CliRunner)."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from latentstudio.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def model(tmp_path_factory, topics_csv_module):
    out = tmp_path_factory.mktemp("cli") / "vae"
    res = runner.invoke(app, ["latent", "train", str(topics_csv_module), "-o", str(out), "--steps", "60",
                              "--hidden", "32", "--snapshot-every", "20", "--threads", "1", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["snapshots"] >= 5 and report["silhouette"]["final"] > report["silhouette"]["first"]
    return out


def test_pulsations_gif_with_metronome(model, tmp_path):
    out = tmp_path / "pulse.gif"
    res = runner.invoke(app, ["latent", "pulsations", str(model), "-o", str(out), "--seconds", "1", "--fps", "8",
                              "--width", "96", "--height", "64", "--bpm", "120", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["frames"] == 8 and report["beats"] == 2 and report["max_peak_offset_frames"] <= 1
    assert out.is_file() and (tmp_path / "pulse.json").is_file()


def test_pulsations_on_music_stretch_to_whole_frames(model, tmp_path):
    from latentstudio.core.audio import save

    sr, bpm = 22050, 128.0
    y = np.zeros(int(sr * 6), dtype=np.float32)
    click = np.exp(-np.arange(800) / 80.0) * np.sin(np.arange(800) * 0.3)
    for t in np.arange(0.25, 5.9, 60 / bpm):
        i = int(t * sr)
        y[i:i + 800] += click.astype(np.float32)
    track = save(tmp_path / "clicks.wav", y, sr)
    out = tmp_path / "pulse.mp4"
    res = runner.invoke(app, ["latent", "pulsations", str(model), "-o", str(out), "--music", str(track),
                              "--fit-fps", "--fps", "12", "--width", "64", "--height", "48", "--backend", "flux",
                              "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    per_beat = 60 * 12 / report["bpm_played"]
    assert per_beat == pytest.approx(round(per_beat))
    assert abs(report["bpm"] - bpm) < 3 and report["max_peak_offset_frames"] <= 1
    assert out.stat().st_size > 0


def test_landscape_writes_map_cartogram_flow(model, tmp_path):
    out = tmp_path / "land.png"
    res = runner.invoke(app, ["latent", "landscape", str(model), "-o", str(out), "--resolution", "48",
                              "--cells", "24", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["cartogram"]["cv_after"] <= report["cartogram"]["cv_before"] / 3
    for name in ("land.png", "land.cartogram.png", "land.flow.png", "land.npz", "land.json"):
        assert (tmp_path / name).is_file(), name


@pytest.mark.parametrize("args, message", [
    (["latent", "train", "nowhere.txt", "-o", "x"], "neither"),
    (["latent", "pulsations", "missing-model", "-o", "p.mp4"], "neither"),
    (["latent", "landscape", "missing-model", "-o", "l.png"], "does not exist"),
    (["latent", "landscape", "beatbox-rhythm", "-o", "l.jpg"], ".png"),
    (["latent", "landscape", "beatbox-rhythm", "-o", "l.png", "--bounds", "1,2"], "X0,X1,Y0,Y1"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output


def test_pulsations_train_first_when_given_data(tmp_path, topics_csv):
    out = tmp_path / "p.gif"
    res = runner.invoke(app, ["latent", "pulsations", str(topics_csv), "-o", str(out), "--train-steps", "30",
                              "--seconds", "1", "--fps", "6", "--width", "64", "--height", "48", "--json"])
    assert res.exit_code == 0, res.output
    assert out.is_file() and (tmp_path / "p.vae" / "snapshots.npy").is_file()


def test_silent_music_is_refused(model, tmp_path):
    from latentstudio.core.audio import save

    track = save(tmp_path / "silence.wav", np.zeros(22050, dtype=np.float32), 22050)
    res = runner.invoke(app, ["latent", "pulsations", str(model), "-o", str(tmp_path / "p.mp4"), "--music",
                              str(track)])
    assert res.exit_code == 2 and "silent" in res.output
    assert not (tmp_path / "p.mp4").exists()
