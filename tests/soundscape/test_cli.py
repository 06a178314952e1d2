import json

import numpy as np
import soundfile as sf
from PIL import Image
from typer.testing import CliRunner

from latentstudio.cli.main import app

runner = CliRunner()


def _photo(tmp_path):
    p = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 96, 3), dtype=np.uint8)).save(p)
    return p


def test_index_query_render(tmp_path, tiny_model_dir, sound_dir):
    cat = tmp_path / "cat"
    common = ["--catalog", str(cat), "--model", str(tiny_model_dir)]
    empty = runner.invoke(app, ["soundscape", "query", str(_photo(tmp_path)), *common])
    assert empty.exit_code == 2 and "empty" in empty.output and len(empty.output.strip().splitlines()) == 1
    r = runner.invoke(app, ["soundscape", "index", str(sound_dir), *common, "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout[r.stdout.index("{"):])
    assert report["added"] == 2 and report["failed"] == 2
    r = runner.invoke(app, ["soundscape", "query", str(_photo(tmp_path)), "--top", "5", "--json", *common])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout[r.stdout.index("{"):])
    assert len(res["matches"]) == 2 and len(res["teacher_labels"]) == 5
    out = tmp_path / "scene.wav"
    r = runner.invoke(app, ["soundscape", "render", str(_photo(tmp_path)), "-o", str(out), "--seconds", "3",
                            "--sr", "16000", *common])
    assert r.exit_code == 0, r.output
    y, sr = sf.read(out)
    assert sr == 16000 and y.shape == (48000, 2) and (tmp_path / "scene.json").exists()


def test_bad_inputs_exit_2(tmp_path, tiny_model_dir):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    r = runner.invoke(app, ["soundscape", "query", str(bad), "--model", str(tiny_model_dir),
                            "--catalog", str(tmp_path / "c")])
    assert r.exit_code == 2 and "bad.png" in r.output
    r = runner.invoke(app, ["soundscape", "index", str(tmp_path / "nowhere"), "--model", str(tiny_model_dir),
                            "--catalog", str(tmp_path / "c")])
    assert r.exit_code == 2 and "does not exist" in r.output
    r = runner.invoke(app, ["soundscape", "render", str(bad), "-o", str(tmp_path / "x.mp3"),
                            "--model", str(tiny_model_dir), "--catalog", str(tmp_path / "c")])
    assert r.exit_code == 2 and "x.mp3" in r.output
    r = runner.invoke(app, ["soundscape", "train", "tuxpaint", "-o", str(tmp_path / "m"), "--teacher-views", "sideways"])
    assert r.exit_code == 2 and "teacher_views='sideways'" in r.output and not (tmp_path / "m").exists()


def test_train_from_a_manifest(tmp_path, monkeypatch, tone):
    monkeypatch.setenv("LATENTSTUDIO_CACHE", str(tmp_path / "cache"))
    rows = ["image,sound"]
    for i, colour in enumerate([(255, 0, 0), (0, 200, 0), (0, 0, 255), (250, 250, 0)]):
        Image.new("RGB", (40, 40), colour).save(tmp_path / f"i{i}.png")
        sf.write(tmp_path / f"s{i}.wav", tone(300 * (i + 1), 1.0), 16000)
        rows.append(f"i{i}.png,s{i}.wav")
    rows.append("i0.png,missing.wav")
    (tmp_path / "pairs.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "model"
    (tmp_path / "refs").mkdir()
    Image.new("RGB", (32, 32), (9, 9, 9)).save(tmp_path / "refs" / "r.png")
    (tmp_path / "refs" / "bad.png").write_bytes(b"not a picture")
    r = runner.invoke(app, ["soundscape", "train", str(tmp_path / "pairs.csv"), "-o", str(out), "--steps", "4",
                            "--views", "2", "--batch-size", "2", "--validation", "0", "--holdout", "0.5",
                            "--no-labels", "--reference", str(tmp_path / "refs"), "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout[r.stdout.index("{"):])
    assert rep["pairs"] == 4 and rep["train_pairs"] == 2 and len(rep["skipped"]) == 1 and rep["label_sounds"] == 0
    assert rep["reference_queries"]["pictures"] == 1 and "skipped" in r.stderr and "bad.png" in r.stderr
    assert (out / "model.safetensors").exists() and not (out / ".checkpoints").exists()
    meta = json.loads((out / "config.json").read_text())["meta"]
    assert meta["seed"] == 0 and meta["command"].startswith("latentstudio soundscape train ")
    assert "--steps 4" in meta["command"] and "--no-labels" in meta["command"]


def test_train_under_torchrun_two_ranks_report_once(tmp_path):
    """``torchrun --nproc_per_node 2 -m latentstudio soundscape train``: DDP over gloo on the CPU; rank 0 alone
    writes the student and reports."""
    import os
    import subprocess
    import sys

    t = np.arange(16000) / 16000
    rows = ["image,sound"]
    for i, colour in enumerate([(255, 0, 0), (0, 200, 0), (0, 0, 255), (250, 250, 0)]):
        Image.new("RGB", (40, 40), colour).save(tmp_path / f"i{i}.png")
        sf.write(tmp_path / f"s{i}.wav", (0.5 * np.sin(2 * np.pi * 300 * (i + 1) * t)).astype(np.float32), 16000)
        rows.append(f"i{i}.png,s{i}.wav")
    (tmp_path / "pairs.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "model"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path),
               LATENTSTUDIO_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "latentstudio", "soundscape", "train", str(tmp_path / "pairs.csv"), "-o", str(out),
                           "--steps", "4", "--views", "2", "--batch-size", "2", "--validation", "0", "--holdout",
                           "0.5", "--no-labels", "--reference", "none", "--json"], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rep = json.loads(proc.stdout[proc.stdout.index("{"):])    # one JSON object: the other rank printed nothing
    assert rep["pairs"] == 4 and rep["train_pairs"] == 2
    assert (out / "model.safetensors").exists() and not (out / ".checkpoints").exists()
