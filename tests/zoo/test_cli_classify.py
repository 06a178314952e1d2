"""``latentstudio classify`` through typer's CliRunner."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image
from skimage import data
from typer.testing import CliRunner

from latentstudio.cli.main import app

runner = CliRunner()


def _png(tmp_path, name, arr):
    path = tmp_path / f"{name}.png"
    Image.fromarray(arr).save(path)
    return path


def test_chelsea_is_a_cat(tmp_path):
    result = runner.invoke(app, ["classify", str(_png(tmp_path, "chelsea", data.chelsea()))])
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[1]
    assert "cat" in first and "%" in first


def test_coffee_json(tmp_path):
    path = _png(tmp_path, "coffee", data.coffee())
    result = runner.invoke(app, ["classify", str(path), "--model", "efficientnet_lite1", "--top", "3", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["model"] == "efficientnet_lite1" and out["input_size"] == 240 and len(out["top"]) == 3
    assert out["top"][0]["label"] in {"espresso", "cup"}
    assert out["top"][0]["index"] in {967, 968}
    probs = [row["probability"] for row in out["top"]]
    assert probs == sorted(probs, reverse=True)


def test_bad_inputs_exit_2_with_one_line(tmp_path):
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    photo = _png(tmp_path, "grey", np.full((40, 50), 128, np.uint8))
    cases = [
        ([str(tmp_path / "missing.png")], "does not exist"),
        ([str(not_image)], "not a readable image"),
        ([str(photo), "--model", "alexnet9"], "efficientnet_lite0"),
        ([str(photo), "--top", "0"], "top=0"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["classify", *args])
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.stderr


def test_help_has_example():
    result = runner.invoke(app, ["classify", "--help"])
    assert result.exit_code == 0 and "Example: latentstudio classify" in result.stdout
