import json

import numpy as np
import pytest
from skimage import data
from typer.testing import CliRunner

from latentstudio.cli.main import app
from latentstudio.core.image import resize, save

runner = CliRunner()


def test_dream_cli_writes_image_and_sidecar(tmp_path):
    src = save(tmp_path / "cat.png", resize(data.chelsea().astype(np.float32) / 255, 96))
    out = tmp_path / "out" / "dream.png"
    r = runner.invoke(app, ["dream", str(src), "-o", str(out), "--octaves", "2", "--steps", "2",
                            "--layer", "blocks.8", "--seed", "1", "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert rep["gain"] > 1 and out.exists() and out.with_suffix(".json").exists()
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["command"] == "dream" and side["params"]["octaves"] == 2


@pytest.mark.slow
def test_dream_cli_video(tmp_path):
    src = save(tmp_path / "cat.png", resize(data.chelsea().astype(np.float32) / 255, 48))
    out = tmp_path / "z.gif"
    r = runner.invoke(app, ["dream", str(src), "-o", str(out), "--octaves", "1", "--steps", "1",
                            "--zoom-frames", "2"])
    assert r.exit_code == 0, r.output
    assert out.exists()


def test_dream_cli_bad_input(tmp_path):
    txt = tmp_path / "notes.txt"
    txt.write_text("not an image")
    r = runner.invoke(app, ["dream", str(txt), "-o", str(tmp_path / "o.png")])
    assert r.exit_code == 2 and "not a readable image" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    src = save(tmp_path / "cat.png", resize(data.chelsea().astype(np.float32) / 255, 48))
    r = runner.invoke(app, ["dream", str(src), "-o", str(tmp_path / "o.png"), "--layer", "block.5"])
    assert r.exit_code == 2 and "valid layers" in r.stderr and "blocks.5" in r.stderr
    r = runner.invoke(app, ["dream", str(src), "-o", str(tmp_path / "o.txt")])
    assert r.exit_code == 2
    r = runner.invoke(app, ["dream", str(tmp_path / "missing.png"), "-o", str(tmp_path / "o.png")])
    assert r.exit_code == 2 and "does not exist" in r.stderr
