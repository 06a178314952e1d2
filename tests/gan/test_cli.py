"""The ``latentstudio gan`` commands end to end on tiny pictures and a tiny model (CliRunner)."""

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from latentstudio.cli import gan as gan_cli
from latentstudio.cli._common import LatentStudioGroup

app = typer.Typer(cls=LatentStudioGroup, add_completion=False, pretty_exceptions_enable=False)
gan_cli.register(app)


@app.callback()
def _root() -> None:
    """Test root."""


runner = CliRunner()
TINY = ["--image-size", "16", "--width", "4", "--max-channels", "16", "--latent-dim", "8", "--batch-size", "8",
        "--threads", "1"]


@pytest.fixture(scope="module")
def model(tmp_path_factory, picture_folder):
    out = tmp_path_factory.mktemp("cli") / "gan"
    res = runner.invoke(app, ["gan", "train", str(picture_folder), "-o", str(out), "--steps", "2", "--sample-every",
                              "1", "--checkpoint-every", "2", "--no-eval", "--json", *TINY])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["steps"] == 2 and report["resumed_from"] == 0 and sum(report["split_counts"].values()) == 40
    assert (out / "config.json").is_file() and (out / "samples.png").is_file() and (out / "samples.json").is_file()
    assert (out / "samples" / "step-00000001.png").is_file()
    return out


def test_train_resumes_from_its_checkpoints(model):
    res = runner.invoke(app, ["gan", "train", "no-such-folder", "-o", str(model.parent / "x")])
    assert res.exit_code == 2 and "neither" in res.output
    res = runner.invoke(app, ["gan", "train", str(_pictures(model)), "-o", str(model), "--steps", "3",
                              "--sample-every", "1", "--checkpoint-every", "2", "--no-eval", "--json", *TINY])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["resumed_from"] == 2


def _pictures(model):
    return json.loads((model / "samples.json").read_text())["params"]["source"]


def test_sample_grid_with_sidecar(model, tmp_path):
    out = tmp_path / "grid.png"
    res = runner.invoke(app, ["gan", "sample", str(model), "-o", str(out), "-n", "4", "--size", "24", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["seeds"] == [0, 1, 2, 3] and out.is_file() and (tmp_path / "grid.json").is_file()
    res = runner.invoke(app, ["gan", "sample", str(model), "-o", str(tmp_path / "auto.png"), "-n", "4", "--columns", "0"])
    assert res.exit_code == 0, res.output                    # 0 columns: as square as the grid allows


def test_walk_gif_reports_even_steps(model, tmp_path):
    out = tmp_path / "walk.gif"
    res = runner.invoke(app, ["gan", "walk", str(model), "-o", str(out), "--seeds", "1,2,3", "--loop", "--seconds",
                              "1.5", "--fps", "8", "--size", "32", "--feature-size", "32", "--threads", "1",
                              "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["frames"] == 12 and report["keyframes"] == 3 and out.stat().st_size > 0
    ev = report["evenness"]
    assert ev["constant_speed"]["max_over_median"] <= ev["plain"]["max_over_median"] + 1e-9


def test_walk_on_music_locks_pushes_to_beats(model, tmp_path):
    from latentstudio.core.audio import save

    sr, bpm = 22050, 120.0
    y = np.zeros(int(sr * 3.2), dtype=np.float32)
    click = (np.exp(-np.arange(800) / 80.0) * np.sin(np.arange(800) * 0.3)).astype(np.float32)
    for t in np.arange(0.25, 3.1, 60 / bpm):
        y[int(t * sr):int(t * sr) + 800] += click
    track = save(tmp_path / "clicks.wav", y, sr)
    out = tmp_path / "walk.mp4"
    res = runner.invoke(app, ["gan", "walk", str(model), "-o", str(out), "--music", str(track), "--backend", "flux",
                              "--fps", "6", "--beats-per-key", "2", "--size", "16", "--feature-size", "32",
                              "--threads", "1", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert abs(report["bpm"] - bpm) < 3 and report["beats"] >= 5 and report["max_peak_offset_frames"] <= 1
    assert report["evenness"]["constant_speed"]["pace"] == "segment" and out.stat().st_size > 0


def test_project_then_walk_through_the_projections(model, tmp_path, picture_folder):
    pics = sorted(picture_folder.rglob("*.png"))[:2]
    out = tmp_path / "proj.png"
    res = runner.invoke(app, ["gan", "project", str(model), *map(str, pics), "-o", str(out), "--steps", "3",
                              "--restarts", "2", "--threads", "1", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    keys = tmp_path / "proj.latents.npy"
    assert np.load(keys).shape == (2, 8) and report["figures"]["pictures"] == 2
    res = runner.invoke(app, ["gan", "walk", str(model), "-o", str(tmp_path / "p.gif"), "--keys-file", str(keys),
                              "--plain", "--seconds", "0.5", "--fps", "4", "--size", "16", "--feature-size", "32",
                              "--json"])
    assert res.exit_code == 0, res.output
    assert "constant_speed" not in json.loads(res.output)["evenness"]


def test_glitch_lists_layers_saves_a_generator_that_samples(model, tmp_path):
    res = runner.invoke(app, ["gan", "glitch", str(model), "--list-layers", "--json"])
    assert res.exit_code == 0, res.output
    layers = [r["layer"] for r in json.loads(res.output)]
    assert "blocks.0.conv" in layers
    bent = tmp_path / "bent"
    res = runner.invoke(app, ["gan", "glitch", str(model), "-o", str(tmp_path / "g.png"), "--layers", "blocks.0",
                              "--scale", "1.0", "-n", "3", "--save-model", str(bent), "--seed", "2", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["layers"] == ["blocks.0.conv", "blocks.0.extra"] and report["mean_abs_pixel_change"] > 0
    res = runner.invoke(app, ["gan", "sample", str(bent), "-o", str(tmp_path / "b.png"), "-n", "2"])
    assert res.exit_code == 0, res.output


def test_evaluate_reports_the_floor(model):
    res = runner.invoke(app, ["gan", "evaluate", str(model), _pictures(model), "--split", "all", "--max-items", "12",
                              "--threads", "1", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["metric"] == "FID/KID (EfficientNet-Lite0 features)" and report["n"] == 6
    assert {"kid", "kid_floor", "fid", "fid_floor"} <= set(report)


@pytest.mark.parametrize("args, match", [
    (["sample", "no-such-model", "-o", "{tmp}/a.png"], "neither a folder nor a pretrained"),
    (["sample", "{model}", "-o", "{tmp}/a.bmp"], "must end with"),
    (["sample", "{model}", "-o", "{tmp}/a.png", "--seeds", "1,x"], "comma-separated"),
    (["walk", "{model}", "-o", "{tmp}/a.gif", "--interpolation", "cubic"], "interpolation"),
    (["walk", "{model}", "-o", "{tmp}/a.gif", "--keys-file", "{tmp}/none.npy"], "does not exist"),
    (["glitch", "{model}", "-o", "{tmp}/a.png", "--layers", "nope"], "valid:"),
    (["glitch", "{model}"], "--output is required"),
    (["evaluate", "{model}", "{tmp}", "--split", "dev"], "--split"),
])
def test_bad_input_is_one_line_and_exit_2(model, tmp_path, args, match):
    argv = ["gan"] + [a.format(tmp=tmp_path, model=model) for a in args]
    res = runner.invoke(app, argv)
    assert res.exit_code == 2, res.output
    assert match in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("name", ["train", "sample", "walk", "project", "glitch", "evaluate"])
def test_help_has_an_example(name):
    res = runner.invoke(app, ["gan", name, "--help"])
    assert res.exit_code == 0 and f"Example: latentstudio gan {name}" in " ".join(res.output.split())


def test_train_under_torchrun_two_ranks_report_once_and_rank_0_writes(tmp_path, picture_folder):
    """``torchrun --nproc_per_node 2 -m latentstudio gan train``: DDP over gloo on the CPU; one report, one
    model (rank 0's), its samples and sidecar, and the run's world size in the model's provenance."""
    import os
    import subprocess
    import sys

    from latentstudio.zoo.checkpoint import load_checkpoint

    out = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "latentstudio", "gan", "train", str(picture_folder), "-o", str(out), "--steps", "4",
                           "--sample-every", "2", "--checkpoint-every", "2", "--no-eval", "--json", *TINY],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)                      # one JSON object: the other rank printed nothing
    assert report["steps"] == 4 and report["resumed_from"] == 0
    _, info = load_checkpoint(out)
    assert info["meta"]["train"]["world_size"] == 2
    assert (out / "samples.png").is_file() and (out / "samples.json").is_file()
    assert (out / "samples" / "step-00000004.png").is_file()
    assert not list(out.glob("**/*.tmp*"))
