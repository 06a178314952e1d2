"""``latentstudio dj`` through typer's CliRunner: every command's example, and bad input."""

import json
import shutil

from typer.testing import CliRunner

from latentstudio.cli.main import app

runner = CliRunner()


def test_beats_json(dj_library):
    _, truth = dj_library
    r = runner.invoke(app, ["dj", "beats", truth[0]["path"], "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert abs(out["bpm"] - 120) < 2 and len(out["beats"]) > 20 and len(out["downbeats"]) > 4


def test_analyze_mix_b2b(dj_library, tmp_path):
    folder, truth = dj_library
    cat = tmp_path / "cat"
    r = runner.invoke(app, ["dj", "analyze", str(folder), "--catalog", str(cat), "--json", "-j", "1"])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)["tracks"]) == 3
    out = tmp_path / "m" / "mix.wav"
    r = runner.invoke(app, ["dj", "mix", str(folder), "-o", str(out), "--tracks", "3", "--catalog", str(cat),
                            "--transition-bars", "4", "--sr", "22050", "--seed", "1"])
    assert r.exit_code == 0, r.output
    plan = json.loads(out.with_suffix(".json").read_text())["plan"]
    assert out.exists() and out.with_suffix(".png").exists()
    assert len(plan["tracks"]) == 3 and plan["checks"]["plan"]["ok"]
    assert all(t["reasons"]["picked_by"] for t in plan["tracks"])
    r = runner.invoke(app, ["dj", "b2b", str(folder), "-o", str(tmp_path / "b2b.wav"), "--catalog", str(cat),
                            "--human-picks", "02-rock-123bpm-Em", "--transition-bars", "4", "--sr", "22050",
                            "--json"])
    assert r.exit_code == 0, r.output
    plan = json.loads(r.stdout)
    assert [t["reasons"]["picked_by"] for t in plan["tracks"]] == ["human", "ai"]


def test_bad_input(dj_library, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = runner.invoke(app, ["dj", "mix", str(empty), "-o", str(tmp_path / "x.wav"), "--catalog", str(tmp_path / "c")])
    assert r.exit_code == 2 and "no audio files" in r.output
    r = runner.invoke(app, ["dj", "mix", str(empty), "-o", str(tmp_path / "x.mp4")])
    assert r.exit_code == 2 and "must end with" in r.output
    r = runner.invoke(app, ["dj", "beats", str(tmp_path / "missing.wav")])
    assert r.exit_code == 2 and "does not exist" in r.output
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(dj_library[1][0]["path"], one / "only.wav")
    (one / "broken.wav").write_bytes(b"not audio at all")
    out = tmp_path / "one.wav"
    r = runner.invoke(app, ["dj", "mix", str(one), "-o", str(out), "--catalog", str(tmp_path / "c"), "--sr", "22050"])
    assert r.exit_code == 0, r.output
    assert "skipped" in r.output and "broken.wav" in r.output and "only one track" in r.output
    r = runner.invoke(app, ["dj", "b2b", str(one), "--human-picks", "nope", "--catalog", str(tmp_path / "c")])
    assert r.exit_code == 2 and "not in the library" in r.output


def test_mix_across_formats_and_rates(formats_library, tmp_path):
    out = tmp_path / "fmt.wav"
    r = runner.invoke(app, ["dj", "mix", str(formats_library), "-o", str(out), "--tracks", "4", "--sr", "22050",
                            "--catalog", str(tmp_path / "c"), "--transition-bars", "2", "--json"])
    assert r.exit_code == 0, r.output
    plan = json.loads(r.stdout)
    assert len(plan["tracks"]) == 4 and not plan.get("warnings")
    assert plan["checks"]["plan"]["ok"]
    for bad in ("corrupt.wav", "silent.wav", "empty.wav"):
        assert bad in r.stderr
