import json
import math

import pytest
from typer.testing import CliRunner

from latentstudio.cli.main import app
from latentstudio.cli.perceive import progress_text

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
    for bad in ("-1", "0", "nan"):
        r = runner.invoke(app, ["perceive", "--target", "goldfish", "-o", str(tmp_path / "a.png"), "--budget", bad])
        assert r.exit_code == 2 and "budget" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_perceive_cli_refuses_a_holdout_from_the_ensemble(tmp_path):
    r = runner.invoke(app, ["perceive", "--target", "goldfish", "-o", str(tmp_path / "a.png"),
                            "--holdout", "efficientnet_lite2,efficientnet_lite0"])
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "holdout='efficientnet_lite0'" in r.stderr and "ensemble" in r.stderr
    assert not list(tmp_path.iterdir())


def test_progress_text_shows_phase_and_reward():
    assert progress_text("grad", 12, math.log(0.25)) == "perceiving: grad 12, ensemble reward 0.250"
    assert progress_text("es", 0, 0.3) == "perceiving: es 0, ensemble reward 1.000"    # a noisy estimate above 0


@pytest.mark.slow
def test_perceive_cli_end_to_end(tmp_path):
    out = tmp_path / "fish.png"
    r = runner.invoke(app, ["perceive", "--target", "goldfish", "-o", str(out), "--budget", "20",
                            "--strokes", "8", "--size", "256", "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert rep["budget_seconds"] == 20 and rep["seconds"] <= 20 + 3 and rep["schedule"]["grad_steps"] >= 1
    assert out.exists() and out.with_suffix(".svg").exists() and (tmp_path / "fish.json").exists()
    roles = [m["role"] for m in rep["models"]]
    assert roles == ["ensemble", "ensemble", "holdout"]
    assert rep["models"][2]["model"] == "efficientnet_lite2"
    assert rep["reward"] > 0
