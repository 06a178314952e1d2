"""The ``latentstudio seeing`` commands end to end on a tiny world folder (CliRunner)."""

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from latentstudio.cli.main import app
from latentstudio.core import image as imageio

runner = CliRunner()


@pytest.fixture(scope="module")
def model(tmp_path_factory, world_dir):
    out = tmp_path_factory.mktemp("cli") / "m"
    res = runner.invoke(app, ["seeing", "train", str(world_dir), "-o", str(out), "--steps", "6", "--size", "32",
                              "--batch-size", "2", "--base", "4", "--blocks", "1", "--short-side", "96",
                              "--sample-every", "3", "--threads", "1", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["steps"] == 6 and len(report["samples"]) == 2
    assert report["command"].startswith("latentstudio seeing train") and "--seed 0" in report["command"]
    return out


def test_run_picture_writes_image_and_sidecar(model, world_dir, tmp_path):
    out = tmp_path / "seen.png"
    res = runner.invoke(app, ["seeing", "run", str(model), str(world_dir / "rocket.png"), "-o", str(out),
                              "--size", "48", "--pre", "blur:1", "--side-by-side", "--json"])
    assert res.exit_code == 0, res.output
    src = imageio.load(world_dir / "rocket.png")
    seen = imageio.load(out)
    assert seen.shape == (src.shape[0], 2 * src.shape[1], 3)
    side = json.loads((tmp_path / "seen.json").read_text())
    assert side["params"]["pre"] == "blur:1" and json.loads(res.output)["kind"] == "picture"


def test_run_video_keeps_length_and_smooths(model, tmp_path):
    from latentstudio.core.video import video_info, write_video

    rng = np.random.default_rng(0)
    clip = tmp_path / "clip.mp4"
    write_video(clip, [rng.random((48, 64, 3)).astype(np.float32) for _ in range(10)], fps=10)
    out = tmp_path / "clip.seen.mp4"
    res = runner.invoke(app, ["seeing", "run", str(model), str(model), str(clip), "-o", str(out), "--size", "32",
                              "--flow", "--switch-every", "0.5", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["frames"] == 10 and report["kind"] == "video" and report["params"]["smooth"] == 0.6
    info = video_info(out)
    assert (info.width, info.height) == (64, 48)


def _folder_run(model, folder, out, *extra):
    res = runner.invoke(app, ["seeing", "run", str(model), str(folder), "-o", str(out), "--size", "32", "--json",
                              *extra])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_run_folder(model, world_dir, tmp_path):
    one = _folder_run(model, world_dir, tmp_path / "all")
    assert len(list((tmp_path / "all").glob("*.png"))) == 4 == one["frames"] and one["failed"] == []
    assert all((p.with_suffix(".json")).is_file() for p in (tmp_path / "all").glob("*.png"))   # each its sidecar
    src = tmp_path / "pictures"
    shutil.copytree(world_dir, src)
    (src / "broken.png").write_bytes(b"\x89PNG not really")
    two = _folder_run(model, src, tmp_path / "pool", "--workers", "2")
    assert two["frames"] == 4 and [f["path"].rsplit("/", 1)[-1] for f in two["failed"]] == ["broken.png"]
    for p in (tmp_path / "all").glob("*.png"):           # the same pictures from two worker processes
        np.testing.assert_array_equal(imageio.load(p), imageio.load(tmp_path / "pool" / p.name))


def test_run_folder_on_ray(ray_local, model, world_dir, tmp_path):
    _folder_run(model, world_dir, tmp_path / "local", "--workers", "2")
    ray = _folder_run(model, world_dir, tmp_path / "ray", "--cluster", "auto")
    assert ray["frames"] == 4
    for p in (tmp_path / "local").glob("*.png"):
        np.testing.assert_array_equal(imageio.load(p), imageio.load(tmp_path / "ray" / p.name))


def test_check_json(model, world_dir, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        imageio.save(inputs / f"{i}.png", rng.random((80, 80, 3)).astype(np.float32))
    sheet = tmp_path / "sheet.png"
    res = runner.invoke(app, ["seeing", "check", str(model), "--inputs", str(inputs), "--world", str(world_dir),
                              "--size", "64", "--bank", "16", "--sheet", str(sheet), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["inputs"] == 3 and report["verdict"] and -1 <= report["follows"] <= 1
    assert imageio.load(sheet).shape == (128, 192, 3)


@pytest.mark.parametrize("args, message", [
    (["run", "NOPE", "x.png", "-o", "y.png"], "does not exist"),
    (["run", "MODEL", "camera", "-o", "y.mp4"], "--max-frames or --seconds"),
    (["run", "MODEL", "BAD", "-o", "y.png"], "bad.png"),
    (["run", "MODEL", "PIC", "-o", "y.wav"], "output"),
    (["run", "MODEL", "PIC", "-o", "y.png", "--pre", "sharpen"], "sharpen"),
    (["train", "NOPE", "-o", "m"], "nope"),
    (["train", "WORLD", "-o", "NOPE", "--guide", "1", "--guide-nets", "efficientnet_lite2"], "cannot guide"),
    (["train", "WORLD", "-o", "NOPE", "--guide", "1", "--guide-jitter", "3"], "guide_jitter"),
    (["train", "WORLD", "-o", "NOPE", "--off-guide", "-1"], "off_guide"),
    (["train", "WORLD", "-o", "NOPE", "--off-guide", "1", "--off-world", "MISSING"], "missing"),
])
def test_bad_input_exits_2(model, world_dir, tmp_path, args, message):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    subst = {"MODEL": str(model), "BAD": str(bad), "PIC": str(world_dir / "coffee.png"), "WORLD": str(world_dir),
             "MISSING": str(tmp_path / "missing")}
    args = [subst.get(a, a).replace("NOPE", str(tmp_path / "nope")) for a in args]
    res = runner.invoke(app, ["seeing", *args])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output
    assert not (tmp_path / "nope").exists()                  # nothing half-written


def test_train_under_torchrun_two_ranks_report_once_and_rank_0_writes(tmp_path, world_dir):
    """``torchrun --nproc_per_node 2 -m latentstudio seeing train``: DDP over gloo on the CPU; one report and
    one model, validated by rank 0, whose provenance records the two ranks."""
    import os
    import subprocess
    import sys

    from latentstudio.zoo.checkpoint import load_checkpoint

    out = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "latentstudio", "seeing", "train", str(world_dir), "-o", str(out), "--steps", "4",
                           "--size", "32", "--batch-size", "2", "--base", "4", "--blocks", "1", "--short-side", "96",
                           "--sample-every", "2", "--threads", "1", "--json"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)                      # one JSON object: the other rank printed nothing
    assert report["steps"] == 4 and len(report["samples"]) == 2 and report["validation"]
    _, info = load_checkpoint(out)
    assert info["meta"]["train"]["world_size"] == 2


def test_a_folder_of_unreadable_pictures_makes_no_output_folder(tmp_path):
    src = tmp_path / "pics"
    src.mkdir()
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a picture")
    out = tmp_path / "seen"
    r = runner.invoke(app, ["seeing", "run", "flowers", str(src), "-o", str(out), "--size", "32"])
    assert r.exit_code == 2 and "could be read" in r.output
    assert not out.exists()
