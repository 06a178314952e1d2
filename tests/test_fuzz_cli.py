"""Every CLI command fed bad files and absurd options: exit 2 (or 0 when the input is fine), one short
message, no traceback, nothing half-written.

The bad inputs are made once per session in a folder whose name has spaces and non-ASCII letters. A new
command joins by adding one line to ``COMMANDS`` (the argument vector, with ``{in}`` for the input, ``{out}``
for an output path and ``{dir}`` for a fresh folder) and, if it has numeric options, lines to ``ABSURD``.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from typer.testing import CliRunner

from latentstudio.cli.main import app

runner = CliRunner()


def _wav_header(frames: int, sr: int = 22050) -> bytes:
    """A 16-bit mono WAV whose header claims ``frames`` samples and holds a few."""
    n = frames * 2
    return (b"RIFF" + struct.pack("<I", 36 + n) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, sr, 2 * sr, 2, 16)
            + b"data" + struct.pack("<I", n) + b"\0" * 64)


@pytest.fixture(scope="session")
def inputs(tmp_path_factory, make_bad) -> dict[str, Path]:
    """Good and bad files, in a folder whose name has spaces and non-ASCII letters."""
    d = tmp_path_factory.mktemp("fuzz") / "dossier été ü 音"
    d.mkdir()
    f: dict[str, Path] = {"missing": d / "no such file.wav", "directory": d / "a folder.wav"}
    f["directory"].mkdir()
    f["empty"] = d / "empty.wav"
    f["empty"].write_bytes(b"")
    f["garbage"] = d / "garbage.wav"
    f["garbage"].write_bytes(np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    sr = 22050
    t = np.arange(sr) / sr
    tone = (0.4 * np.sin(2 * np.pi * 220 * t) * (np.mod(t, 0.25) < 0.05)).astype(np.float32)
    f["ok_wav"] = d / "tone ü.wav"
    sf.write(f["ok_wav"], tone, sr)
    f["truncated_wav"] = make_bad.half(f["ok_wav"], d / "truncated.wav")
    for name, value in (("nan_wav", np.nan), ("inf_wav", np.inf)):
        y = tone.copy()
        y[100:200] = value
        f[name] = d / f"{name}.wav"
        sf.write(f[name], y, sr, subtype="FLOAT")
    f["one_sample_wav"] = d / "one sample.wav"
    sf.write(f["one_sample_wav"], np.array([0.5], np.float32), sr)
    f["silent_wav"] = d / "silent.wav"
    sf.write(f["silent_wav"], np.zeros(sr // 2, np.float32), sr)
    f["huge_wav"] = d / "huge.wav"
    f["huge_wav"].write_bytes(_wav_header(2 ** 31 - 100))
    f["png_as_wav"] = d / "picture.wav"
    f["text_as_wav"] = d / "text.wav"
    f["text_as_wav"].write_text("RIFF? no. " * 50)
    pic = (np.random.default_rng(1).random((24, 32, 3)) * 255).astype(np.uint8)
    f["ok_png"] = d / "picture ü.png"
    Image.fromarray(pic).save(f["ok_png"])
    f["png_as_wav"].write_bytes(f["ok_png"].read_bytes())
    f["truncated_png"] = make_bad.half(f["ok_png"], d / "truncated.png")
    f["nan_tiff"] = d / "nan.tiff"
    Image.fromarray(np.full((4, 4), np.nan, np.float32), "F").save(f["nan_tiff"])
    f["inf_tiff"] = d / "inf.tiff"
    Image.fromarray(np.full((4, 4), np.inf, np.float32), "F").save(f["inf_tiff"])
    f["one_pixel_png"] = d / "one pixel.png"
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(f["one_pixel_png"])
    f["huge_png"] = d / "huge.png"
    f["huge_png"].write_bytes(make_bad.png_header(100000, 100000))
    f["wav_as_png"] = d / "sound.png"
    f["wav_as_png"].write_bytes(f["ok_wav"].read_bytes())
    f["text_as_png"] = d / "text.png"
    f["text_as_png"].write_text("not a picture " * 30)
    f["wrong_ext"] = d / "notes.txt"
    f["wrong_ext"].write_text("hello\n")
    # folders of sounds (a library)
    f["lib_ok"] = d / "library ok"
    f["lib_ok"].mkdir()
    sf.write(f["lib_ok"] / "a.wav", tone, sr)
    f["lib_empty"] = d / "library empty"
    f["lib_empty"].mkdir()
    f["lib_bad"] = d / "library bad"
    f["lib_bad"].mkdir()
    for name in ("garbage", "empty", "nan_wav", "inf_wav", "truncated_wav", "huge_wav", "text_as_wav"):
        (f["lib_bad"] / f"{name}.wav").write_bytes(f[name].read_bytes())
    f["file_as_dir"] = f["ok_wav"]
    f["catalog"] = d / "catalog ü"
    r = runner.invoke(app, ["soundscape", "index", str(f["lib_ok"]), "--catalog", str(f["catalog"])])
    assert r.exit_code == 0, r.output
    return f


# Bad inputs of each kind: the name of a file above, and the exit codes allowed (0 where a command may
# legitimately accept it, e.g. one pixel scaled up, a one-sample sound with no hits in it).
BAD = {"missing": {2}, "directory": {2}, "empty": {2}, "garbage": {2}, "wrong_ext": {2}}
AUDIO = {**BAD, "truncated_wav": {2}, "nan_wav": {2}, "inf_wav": {2}, "one_sample_wav": {0, 2},
         "silent_wav": {0, 2}, "huge_wav": {2}, "png_as_wav": {2}, "text_as_wav": {2}, "ok_wav": {0}}
IMAGE = {**BAD, "truncated_png": {2}, "nan_tiff": {2}, "inf_tiff": {2}, "one_pixel_png": {0, 2}, "huge_png": {2},
         "wav_as_png": {2}, "text_as_png": {2}, "ok_png": {0}}
LIBRARY = {"missing": {2}, "file_as_dir": {2}, "lib_empty": {2}, "lib_bad": {2}}
KINDS = {"audio": AUDIO, "image": IMAGE, "library": LIBRARY}

# One line per command that reads a file: (kind of input, argument vector). Options keep the good cases fast.
COMMANDS = {
    "classify": ("image", ["classify", "{in}", "--top", "2"]),
    "dream": ("image", ["dream", "{in}", "-o", "{out}.png", "--octaves", "1", "--steps", "1", "--max-side", "32"]),
    "soundscape query": ("image", ["soundscape", "query", "{in}", "--catalog", "{cat}"]),
    "soundscape render": ("image", ["soundscape", "render", "{in}", "-o", "{out}.wav", "--catalog", "{cat}",
                                    "--seconds", "1"]),
    "dj beats": ("audio", ["dj", "beats", "{in}", "--json"]),
    "beatbox segment": ("audio", ["beatbox", "segment", "{in}", "--out-dir", "{out}"]),
    "beatbox classify": ("audio", ["beatbox", "classify", "{in}", "--json"]),
    "beatbox jam": ("audio", ["beatbox", "jam", "{in}", "-o", "{out}.wav", "--bars", "2", "--evolve-bars", "2"]),
    "beatbox session": ("audio", ["beatbox", "session", "{dir}", "{in}", "--bars", "2"]),
    "dj analyze": ("library", ["dj", "analyze", "{in}", "--catalog", "{dir}", "-j", "1", "--backend", "flux"]),
    "dj mix": ("library", ["dj", "mix", "{in}", "-o", "{out}.wav", "--catalog", "{dir}", "-j", "1",
                           "--backend", "flux", "--sr", "22050"]),
    "dj b2b": ("library", ["dj", "b2b", "{in}", "-o", "{out}.wav", "--catalog", "{dir}", "-j", "1",
                           "--backend", "flux", "--sr", "22050"]),
    "soundscape index": ("library", ["soundscape", "index", "{in}", "--catalog", "{dir}"]),
    "funk reimagine": ("audio", ["funk", "reimagine", "{in}", "-o", "{out}"]),
    "funk blend": ("audio", ["funk", "blend", "{in}", "{in}", "-o", "{out}", "--weights", "1,-0.5"]),
    "funk index": ("library", ["funk", "index", "{in}", "--catalog", "{dir}"]),
    "seeing run": ("image", ["seeing", "run", "flowers", "{in}", "-o", "{out}.png", "--size", "32"]),
    "gan project": ("image", ["gan", "project", "omniart-eyes", "{in}", "-o", "{out}.png", "--steps", "2",
                              "--restarts", "1", "--threads", "1"]),
}

CASES = [(cmd, case, codes) for cmd, (kind, _) in COMMANDS.items() for case, codes in KINDS[kind].items()]


def _check(result, codes: set[int], out: Path) -> None:
    """Exit code in ``codes``, no traceback, a short message, and no output when it failed."""
    err = result.stderr if result.stderr_bytes is not None else result.output
    assert result.exit_code in codes, f"exit {result.exit_code}: {result.output}\n{result.exception!r}"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        lines = [line for line in err.splitlines() if line.strip() and not line.startswith("skipped ")]
        assert 1 <= len(lines) <= 3, err
        leftovers = [p for p in out.parent.rglob("*") if p.is_file() and str(p).startswith(str(out))]
        assert not leftovers, f"half-written output: {leftovers}"
    assert not [p for p in out.parent.rglob("*") if ".part" in p.name], "temporary files left behind"


def _argv(template: list[str], inp: Path, out: Path, work: Path, catalog: Path | None = None) -> list[str]:
    subs = {"{in}": inp, "{out}": out, "{dir}": work, "{cat}": catalog}
    argv = []
    for a in template:
        for key, value in subs.items():
            a = a.replace(key, str(value))
        argv.append(a)
    return argv


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTSTUDIO_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize(("command", "case", "codes"), CASES, ids=[f"{c}-{k}" for c, k, _ in CASES])
def test_bad_input(inputs, tmp_path, command, case, codes):
    kind, template = COMMANDS[command]
    out = tmp_path / "out dir ü" / "result"
    out.parent.mkdir()
    work = tmp_path / "work"
    result = runner.invoke(app, _argv(template, inputs[case], out, work, inputs["catalog"]))
    _check(result, codes, out)


# Absurd options, each on an otherwise good call: (command, extra arguments). Training commands are only
# called like this, so they must refuse before any data is made.
ABSURD = [
    ("seeing run", ["--smooth", "1.5"]), ("seeing run", ["--pre", "sharpen:2"]), ("seeing run", ["--size", "-5"]),
    ("seeing run", ["--post", "blur:nan"]),
    ("classify", ["--top", "0"]), ("classify", ["--top", "-3"]), ("classify", ["--top", "100000"]),
    ("classify", ["--model", "no_such_model"]), ("classify", ["--device", "warp9"]),
    ("dream", ["--octaves", "0"]), ("dream", ["--steps", "-1"]), ("dream", ["--octave-scale", "0"]),
    ("dream", ["--step-size", "nan"]), ("dream", ["--max-side", "-1"]), ("dream", ["--octaves", "1000000"]),
    ("dream", ["--zoom-frames", "-2"]), ("dream", ["--fps", "0", "--zoom-frames", "2", "-o", "{out}.gif"]), ("dream", ["--layer", "no.such.layer"]),
    ("dream", ["--tile-size", "0"]), ("dream", ["--max-roll", "-5"]),
    ("dream", ["--zoom-frames", "1000000000"]), ("dream", ["--octave-scale", "nan"]), ("dream", ["--step-size", "inf"]), ("seeing run", ["--seconds", "nan"]),
    ("soundscape render", ["--sr", "1"]), ("soundscape render", ["--sr", "1000000000"]),
    ("soundscape query", ["--top", "0"]), ("soundscape query", ["--top", "-1"]),
    ("soundscape render", ["--seconds", "0"]), ("soundscape render", ["--seconds", "-1"]),
    ("soundscape render", ["--seconds", "1e12"]), ("soundscape render", ["--sr", "0"]),
    ("soundscape render", ["--seconds", "nan"]), ("soundscape render", ["--top", "0"]),
    ("dj beats", ["--backend", "nonsense"]),
    ("beatbox segment", ["--min-db", "nan"]), ("beatbox segment", ["--kind", "nonsense"]),
    ("beatbox classify", ["--kind", "nonsense"]), ("beatbox classify", ["--calibrate", "kick"]),
    ("beatbox jam", ["--bars", "0"]), ("beatbox jam", ["--bars", "-4"]), ("beatbox jam", ["--bars", "100000000"]),
    ("beatbox jam", ["--bpm", "0"]), ("beatbox jam", ["--bpm", "-100"]), ("beatbox jam", ["--bpm", "1e9"]),
    ("beatbox jam", ["--bpm", "nan"]), ("beatbox jam", ["--temperature", "-1"]),
    ("beatbox jam", ["--evolve-bars", "0"]), ("beatbox jam", ["--kit", "NoSuchKit"]),
    ("beatbox jam", ["--mode", "nonsense"]), ("beatbox jam", ["--density", "kick=7"]),
    ("beatbox session", ["--bars", "0"]), ("beatbox session", ["--bpm", "-1"]),
    ("beatbox session", ["--bars", "100000000"]),
    ("dj mix", ["--tracks", "0"]), ("dj mix", ["--tracks", "-1"]), ("dj mix", ["--sr", "0"]),
    ("dj mix", ["--sr", "100000000"]), ("dj mix", ["--transition-bars", "-1"]), ("dj mix", ["--novelty", "nan"]),
    ("dj mix", ["--stretch-limit", "-1"]), ("dj mix", ["--max-bars", "0"]), ("dj mix", ["--workers", "0"]),
    ("dj mix", ["--stretch", "nonsense"]),
    ("dj b2b", ["--rounds", "0"]), ("dj b2b", ["--rounds", "-1"]), ("dj b2b", ["--sr", "-1"]),
    ("dj analyze", ["--workers", "-1"]), ("dj analyze", ["--backend", "nonsense"]),
    ("soundscape index", ["--threads", "0"]),
]

# Commands without a file input, called only with absurd options: (argument vector).
_PERCEIVE = ["perceive", "--target", "banana", "-o", "{out}.png"]
_GENERATE = ["beatbox", "generate", "-o", "{out}.mid"]
_DISTIL = ["soundscape", "train", "tuxpaint", "-o", "{out}"]
_TRAIN_CLASSIFIER = ["beatbox", "train-classifier", "-o", "{out}"]
ABSURD_ONLY = [
    [*_PERCEIVE, "--strokes", "0"],
    [*_PERCEIVE, "--strokes", "-1"],
    [*_PERCEIVE, "--size", "0"],
    [*_PERCEIVE, "--size", "1000000"],
    [*_PERCEIVE, "--budget", "-1"],
    [*_PERCEIVE, "--holdout", "efficientnet_lite0"],
    [*_PERCEIVE, "--hub-weight", "-1"],
    [*_PERCEIVE, "--hub-weight", "nan"],
    ["perceive", "--target", "no such class at all", "-o", "{out}.png"],
    ["perceive", "--target", "banana", "-o", "{out}.txt"],
    ["dj", "train-beats", "-o", "{out}", "--steps", "0"],
    ["dj", "train-beats", "-o", "{out}", "--tracks", "-1"],
    ["dj", "train-beats", "-o", "{out}", "--dilations", "1,x"],
    ["dj", "train-beats", "-o", "{out}", "--dilations", "0"],
    ["dj", "train-beats", "-o", "{out}", "--midi-folder", "{dir}/no-such-folder"],
    ["dj", "fit-levels", "{dir}/no-such-model", "-o", "{out}"],
    ["dj", "train-selector", "{dir}", "{dir}", "-o", "{out}", "--steps", "-1"],
    ["dj", "make-library", "{out}", "--count", "0"],
    ["dj", "make-library", "{out}", "--count", "-3"],
    ["dj", "make-library", "{out}", "--sr", "0"],
    [*_TRAIN_CLASSIFIER, "--steps", "0"],
    [*_TRAIN_CLASSIFIER, "--batch-size", "-1"],
    [*_TRAIN_CLASSIFIER, "--members", "0"],
    [*_TRAIN_CLASSIFIER, "--threads", "0"],
    ["beatbox", "train-onsets", "-o", "{out}", "--steps", "-5"],
    ["beatbox", "train-onsets", "-o", "{out}", "--batch-size", "0"],
    ["beatbox", "train-onsets", "-o", "{out}", "--dilations", "1,x"],
    ["beatbox", "train-onsets", "-o", "{out}", "--dilations", "0,2"],
    ["beatbox", "train-onsets", "-o", "{out}", "--windows", "1024,x"],
    ["beatbox", "train-onsets", "-o", "{out}", "--windows", "4096"],
    ["beatbox", "train-onsets", "-o", "{out}", "--windows", "512,512"],
    ["beatbox", "train-onsets", "-o", "{out}", "--halls", "1"],
    ["beatbox", "train-onsets", "-o", "{out}", "--halls", "-0.1"],
    ["beatbox", "train-onsets", "-o", "{out}", "--halls", "nan"],
    ["beatbox", "train-rhythm", "-o", "{out}", "--steps", "0"],
    ["beatbox", "train-rhythm", "-o", "{out}", "--grammar", "-1"],
    ["funk", "dream", "-o", "{out}", "-n", "0"],
    ["funk", "dream", "-o", "{out}", "--drum", "cowbell"],
    ["funk", "dream", "-o", "{out}", "--temperature", "nan"],
    ["funk", "dream", "-o", "{out}", "--confidence", "1.5"],
    ["funk", "sample", "-o", "{out}", "-n", "-1"],
    ["funk", "sample", "-o", "{out}", "--temperature", "inf"],
    ["funk", "track", "-o", "{out}.wav", "--bars", "0"],
    ["funk", "track", "-o", "{out}.wav", "--bpm", "1e9"],
    ["funk", "track", "-o", "{out}.txt"],
    ["funk", "train-vae", "-o", "{out}", "--steps", "0"],
    ["funk", "train-wavenet", "-o", "{out}", "--batch-size", "-1"],
    ["funk", "dream", "-o", "{out}", "--model", "{dir}/no-such-model"],
    ["latent", "train", "fortunes", "-o", "{out}", "--steps", "0"],
    ["latent", "train", "fortunes", "-o", "{out}", "--latent-dim", "0", "--max-items", "50"],
    ["latent", "train", "{dir}/nothing.csv", "-o", "{out}"],
    ["latent", "pulsations", "{dir}", "-o", "{out}.mp4"],
    ["latent", "pulsations", "fortunes", "-o", "{out}.mp4", "--bpm", "inf"],
    ["latent", "pulsations", "fortunes", "-o", "{out}.mp4", "--seconds", "1e12"],
    ["latent", "pulsations", "fortunes", "-o", "{out}.mp4", "--fps", "0"],
    ["latent", "landscape", "beatbox-rhythm", "-o", "{out}.png", "--resolution", "0"],
    ["latent", "landscape", "beatbox-rhythm", "-o", "{out}.png", "--measure", "nonsense"],
    ["latent", "landscape", "beatbox-rhythm", "-o", "{out}.png", "--bounds", "0,0,1,1"],
    ["latent", "landscape", "beatbox-rhythm", "-o", "{out}.png", "--colormap", "rainbowish"],
    # no -o: a training run never falls back to the shipped model's folder
    ["dj", "train-beats", "--steps", "1"],
    ["beatbox", "train-classifier", "--steps", "1"],
    ["beatbox", "train-onsets", "--steps", "1"],
    ["beatbox", "train-rhythm", "--steps", "1"],
    [*_GENERATE, "--bars", "0"],
    [*_GENERATE, "--bars", "-2"],
    [*_GENERATE, "--bars", "100000000"],
    [*_GENERATE, "--bpm", "0"],
    [*_GENERATE, "--temperature", "nan"],
    ["beatbox", "generate", "-o", "{out}.wav"],
    [*_DISTIL, "--steps", "0"],
    [*_DISTIL, "--batch-size", "-1"],
    [*_DISTIL, "--lr", "nan"],
    [*_DISTIL, "--views", "0"],
    [*_DISTIL, "--validation", "2"],
    ["soundscape", "train", "{dir}", "-o", "{out}"],
    ["soundscape", "library", "build", "--add", "{dir}", "--catalog", "{dir}", "--threads", "0"],
    ["demo", "-o", "{out}", "--only", "nonsense"],
    ["seeing", "train", "flowers", "-o", "{out}", "--steps", "0"],
    ["seeing", "train", "{dir}", "-o", "{out}", "--size", "8"],
    ["seeing", "check", "flowers", "--size", "0"],
    ["seeing", "check", "flowers", "--size", "100000"],
    ["seeing", "check", "flowers", "--bank", "1000000000"],
    ["gan", "project", "omniart-eyes", "{dir}", "-o", "{out}.png", "--restarts", "100000"],
    ["funk", "train-vae", "-o", "{out}", "--latent-dim", "1000000"],
    ["gan", "sample", "omniart-eyes", "-o", "{out}.png", "-n", "0"],
    ["gan", "walk", "omniart-eyes", "-o", "{out}.mp4", "--fps", "0"],
    ["gan", "walk", "omniart-eyes", "-o", "{out}.mp4", "--seconds", "nan"],
    ["gan", "train", "{dir}", "-o", "{out}", "--steps", "0"],
    ["gan", "sample", "omniart-eyes", "-o", "{out}.png", "-n", "2", "--columns", "-1"],
    ["gan", "sample", "omniart-eyes", "-o", "{out}.png", "--seeds", "18446744073709551616"],
    ["gan", "sample", "omniart-eyes", "-o", "{out}.png", "-n", "2", "--truncation", "nan"],
    ["gan", "walk", "omniart-eyes", "-o", "{out}.mp4", "--keys", "2", "--feature-size", "0"],
    ["latent", "landscape", "beatbox-rhythm", "-o", "{out}.png", "--resolution", "16", "--cells", "0"],
    ["latent", "pulsations", "fortunes", "-o", "{out}.gif", "--train-steps", "2", "--width", "0"],
    ["latent", "pulsations", "fortunes", "-o", "{out}.gif", "--train-steps", "2", "--width", "100000"],
]


def _good_input(inputs, kind: str) -> Path:
    return inputs[{"audio": "ok_wav", "image": "ok_png", "library": "lib_ok"}[kind]]


@pytest.mark.parametrize(("command", "extra"), ABSURD, ids=[f"{c}{''.join(e)}" for c, e in ABSURD])
def test_absurd_options(inputs, tmp_path, command, extra):
    kind, template = COMMANDS[command]
    out = tmp_path / "out" / "result"
    out.parent.mkdir()
    result = runner.invoke(app, _argv(template + extra, _good_input(inputs, kind), out, tmp_path / "work", inputs["catalog"]))
    _check(result, {2}, out)


@pytest.mark.parametrize("argv", ABSURD_ONLY, ids=[" ".join(a[:2] + a[-2:]) for a in ABSURD_ONLY])
def test_absurd_options_without_input(tmp_path, argv):
    out = tmp_path / "out" / "result"
    out.parent.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    result = runner.invoke(app, _argv(argv, Path("unused"), out, work))
    _check(result, {2}, out)


WRITERS = [c for c, (_, t) in COMMANDS.items() if any("{out}" in a for a in t)]


@pytest.mark.parametrize("command", WRITERS)
def test_output_under_a_file(inputs, tmp_path, command):
    """An output folder that cannot be made (a file is in the way) is one line and exit 2."""
    kind, template = COMMANDS[command]
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    out = blocker / "result"
    result = runner.invoke(app, _argv(template, _good_input(inputs, kind), out, tmp_path / "work", inputs["catalog"]))
    _check(result, {2}, tmp_path / "result")


@pytest.mark.parametrize("command", WRITERS)
def test_read_only_output_folder(inputs, tmp_path, command):
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    kind, template = COMMANDS[command]
    folder = tmp_path / "read only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        out = folder / "result"
        result = runner.invoke(app, _argv(template, _good_input(inputs, kind), out, tmp_path / "work", inputs["catalog"]))
        _check(result, {2}, out)
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("argv", [
    ["latent", "train", "fortunes", "-o", "{out}", "--steps", "2", "--lr", "nan"],
    ["latent", "train", "fortunes", "-o", "{out}", "--steps", "2", "--beta", "nan"],
    ["seeing", "train", "flowers", "-o", "{out}", "--steps", "2", "--device", "nope"],
    ["gan", "train", "{dir}", "-o", "{out}", "--steps", "2", "--width", "0"],
    ["gan", "train", "{dir}", "-o", "{out}", "--steps", "2", "--lr", "nan"],
], ids=lambda a: " ".join(a[:2] + a[-2:]))
def test_a_refused_training_makes_no_folder(tmp_path, argv):
    """Settings the trainer refuses are refused before its output folder is made (it was left empty, or
    with a first snapshot in it)."""
    pics = tmp_path / "pics"
    pics.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(pics / f"{i}.png")
    out = tmp_path / "out" / "model"
    result = runner.invoke(app, _argv(argv, Path("unused"), out, pics))
    _check(result, {2}, out)
    assert not out.exists(), list(out.rglob("*"))
