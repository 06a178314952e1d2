import json

import pytest
from typer.testing import CliRunner

from latentstudio.cli.main import app

runner = CliRunner()


def test_perceive_cli_bad_input(tmp_path):
    r = runner.invoke(app, ["perceive", "--target", "goldfsh", "-o", str(tmp_path / "a.png")])
    assert r.exit_code == 2 and "goldfish" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = runner.invoke(app, ["perceive", "--target", "goldfish", "-o", str(tmp_path / "a.png"), "--planner", "x"])
    assert r.exit_code == 2 and "es, grad, hybrid" in r.stderr
    r = runner.invoke(app, ["perceive", "--target", "goldfish", "-o", str(tmp_path / "a.txt")])
    assert r.exit_code == 2
    r = runner.invoke(app, ["perceive", "--target", "goldfish", "-o", str(tmp_path / "a.png"), "--models", "nope"])
    assert r.exit_code == 2 and "efficientnet_lite0" in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_perceive_cli_end_to_end(tmp_path):
    out = tmp_path / "fish.png"
    r = runner.invoke(app, ["perceive", "--target", "goldfish", "-o", str(out), "--budget", "small",
                            "--strokes", "8", "--size", "256", "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert out.exists() and out.with_suffix(".svg").exists() and (tmp_path / "fish.json").exists()
    roles = [m["role"] for m in rep["models"]]
    assert roles == ["ensemble", "ensemble", "holdout"]
    assert rep["models"][2]["model"] == "efficientnet_lite2"
    assert rep["reward"] > 0
