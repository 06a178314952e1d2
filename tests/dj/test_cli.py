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


def test_bad_settings_are_one_error_and_leave_nothing(dj_library, tmp_path):
    folder, _ = dj_library
    cat = str(tmp_path / "cat")
    runner.invoke(app, ["dj", "analyze", str(folder), "--catalog", cat, "-j", "1"])
    out = tmp_path / "new" / "sub" / "mix.wav"
    cases = [(["--seed", "-1"], "--seed"), (["--max-bars", "-1"], "max_play_bars=-1"),
             (["--max-bars", "0"], "max_play_bars=0"), (["--sr", "1000000000"], "192000"),
             (["--transition-bars", "-5"], "transition_bars=-5"), (["--backend", "bogus"], "backend='bogus'")]
    for extra, message in cases:
        for cmd in (["dj", "mix", str(folder), "-o", str(out), "--tracks", "2"],
                    ["dj", "b2b", str(folder), "-o", str(out), "--human-picks", "01-house-120bpm-Am"]):
            r = runner.invoke(app, [*cmd, "--catalog", cat, *extra])
            assert r.exit_code == 2 and message in r.output, (cmd[:2], extra, r.output)
            assert r.output.count("backend=") <= 1 and "Traceback" not in r.output
            assert not (tmp_path / "new").exists(), (cmd[:2], extra)        # no folder made for a refused run
    # every scripted pick is checked before the first mix is written
    r = runner.invoke(app, ["dj", "b2b", str(folder), "-o", str(out), "--catalog", cat, "--sr", "22050",
                            "--human-picks", "01-house-120bpm-Am,zzz"])
    assert r.exit_code == 2 and "'zzz' is not in the library" in r.output
    r = runner.invoke(app, ["dj", "b2b", str(folder), "-o", str(out), "--catalog", cat, "--sr", "22050",
                            "--human-picks", "01-house-120bpm-Am,01-house-120bpm-Am"])
    assert r.exit_code == 2 and "already been played" in r.output
    assert not (tmp_path / "new").exists()
    # a scripted pick the AI has already played is found before anything is written too
    r = runner.invoke(app, ["dj", "b2b", str(folder), "-o", str(tmp_path / "first.wav"), "--catalog", cat,
                            "--sr", "22050", "--human-picks", "01-house-120bpm-Am", "--json", "--transition-bars", "4"])
    assert r.exit_code == 0, r.output
    ai = json.loads(r.stdout)["tracks"][1]["path"].rsplit("/", 1)[-1].rsplit(".", 1)[0]
    r = runner.invoke(app, ["dj", "b2b", str(folder), "-o", str(out), "--catalog", cat, "--sr", "22050",
                            "--human-picks", f"01-house-120bpm-Am,{ai}"])
    assert r.exit_code == 2 and "already been played" in r.output
    assert not (tmp_path / "new").exists()


def test_b2b_asks_again_after_a_typo(dj_library, tmp_path):
    folder, _ = dj_library
    out = tmp_path / "b2b.wav"
    r = runner.invoke(app, ["dj", "b2b", str(folder), "-o", str(out), "--catalog", str(tmp_path / "c"), "--sr", "22050",
                            "--rounds", "1", "--transition-bars", "4"], input="nope\n02-rock-123bpm-Em\n")
    assert r.exit_code == 0, r.output
    assert "'nope' is not in the library" in r.output and out.exists()


def test_make_library_gives_each_track_its_sidecar(tmp_path):
    out = tmp_path / "lib"
    r = runner.invoke(app, ["dj", "make-library", str(out), "--seed", "3", "--count", "1", "--json"])
    assert r.exit_code == 0, r.output
    (track,) = json.loads(r.stdout)
    side = json.loads((out / (track["path"].rsplit("/", 1)[-1].rsplit(".", 1)[0] + ".json")).read_text())
    assert side["command"] == "latentstudio dj make-library" and side["seed"] == 3
    assert side["truth"]["beats"] == track["beats"] and side["params"]["bpm"] == track["bpm"]
