"""Bad inputs on every public loader: each raises ParameterError (or ModelError) naming the input.

Files are made once per session: empty, truncated, NaN, wrong-kind, zero-length and huge-dimension
ones, plus missing paths and directories. Each case runs against every loader that takes that kind.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from latentstudio.core import audio, image, midi, video
from latentstudio.errors import LatentStudioError, ModelError, ParameterError
from latentstudio.train import load_training_checkpoint
from latentstudio.zoo.checkpoint import load_checkpoint, register_model, save_checkpoint


@register_model("tests_failures_tiny")
class _Tiny(torch.nn.Module):
    def __init__(self, n: int = 3):
        super().__init__()
        self.lin = torch.nn.Linear(n, 1)


@pytest.fixture(scope="session")
def bad(tmp_path_factory, make_bad) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    f: dict[str, Path] = {"missing": d / "no_such_file.wav", "directory": d / "a_folder"}
    f["directory"].mkdir()
    f["empty"] = d / "empty.bin"
    f["empty"].write_bytes(b"")
    f["text"] = d / "fortune.txt"
    f["text"].write_text("You will be handed a file that is not what it claims.\n" * 20)
    # audio
    tone = (0.5 * np.sin(np.arange(22050) * 2 * np.pi * 440 / 22050)).astype(np.float32)
    sf.write(d / "ok.wav", tone, 22050)
    sf.write(d / "ok.flac", tone, 22050)
    f["audio_truncated_wav"] = make_bad.half(d / "ok.wav", d / "truncated.wav")
    f["audio_truncated_flac"] = make_bad.half(d / "ok.flac", d / "truncated.flac")
    nan = tone.copy()
    nan[1000] = np.nan
    f["audio_nan"] = d / "nan.wav"
    sf.write(f["audio_nan"], nan, 22050, subtype="FLOAT")
    f["audio_zero_length"] = d / "zero.wav"
    sf.write(f["audio_zero_length"], np.zeros(0, np.float32), 22050)
    f["audio_huge"] = d / "two_hours.wav"  # 7300 samples at 1 Hz: over the 2-hour limit, 15 kB on disk
    sf.write(f["audio_huge"], np.zeros(7300, np.float32), 1)
    f["text_as_wav"] = d / "text.wav"
    f["text_as_wav"].write_text("RIFF? no." * 50)
    # images
    pic = (np.random.default_rng(0).random((40, 50, 3)) * 255).astype(np.uint8)
    Image.fromarray(pic).save(d / "ok.png")
    Image.fromarray(pic).save(d / "ok.jpg")
    f["image_truncated_png"] = make_bad.half(d / "ok.png", d / "truncated.png")
    f["image_truncated_jpg"] = make_bad.half(d / "ok.jpg", d / "truncated.jpg")
    f["image_nan"] = d / "nan.tiff"
    Image.fromarray(np.full((4, 4), np.nan, np.float32), "F").save(f["image_nan"])
    f["image_zero_size"] = d / "zero.png"
    f["image_zero_size"].write_bytes(make_bad.png_header(0, 0))
    f["image_huge_side"] = d / "wide.png"  # 20000 px wide: over max_side, under PIL's bomb limit
    f["image_huge_side"].write_bytes(make_bad.png_header(20000, 16))
    f["image_bomb"] = d / "bomb.png"
    f["image_bomb"].write_bytes(make_bad.png_header(100000, 100000))
    f["text_as_png"] = d / "text.png"
    f["text_as_png"].write_text("not a picture " * 30)
    f["wav_as_png"] = d / "sound.png"
    f["wav_as_png"].write_bytes((d / "ok.wav").read_bytes())
    # videos
    frames = np.random.default_rng(1).random((24, 32, 48, 3)).astype(np.float32)
    video.write_video(d / "ok.mp4", frames, fps=12, audio=np.tile(tone, 2), sr=22050)
    f["video_truncated"] = make_bad.half(d / "ok.mp4", d / "truncated.mp4")
    f["video_header_only"] = d / "header.mp4"
    f["video_header_only"].write_bytes((d / "ok.mp4").read_bytes()[:200])
    f["video_huge_side"] = d / "ok.mp4"  # read with max_side=32 below
    f["text_as_mp4"] = d / "text.mp4"
    f["text_as_mp4"].write_text("moov? no. " * 40)
    f["wav_as_video"] = d / "ok.wav"
    # MIDI
    f["text_as_mid"] = d / "text.mid"
    f["text_as_mid"].write_text("MThd? no. " * 10)
    # checkpoints
    good = save_checkpoint(d / "ck_ok", _Tiny(), config={"n": 3})

    def ck(name, edit):
        p = d / f"ck_{name}"
        p.mkdir()
        for src in good.iterdir():
            (p / src.name).write_bytes(src.read_bytes())
        edit(p)
        f[f"ck_{name}"] = p

    ck("empty_dir", lambda p: [x.unlink() for x in p.iterdir()])
    ck("empty_weights", lambda p: (p / "model.safetensors").write_bytes(b""))
    ck("truncated_weights", lambda p: make_bad.half(p / "model.safetensors", p / "model.safetensors"))
    ck("text_weights", lambda p: (p / "model.safetensors").write_text("weights? no."))
    ck("huge_header", lambda p: (p / "model.safetensors").write_bytes(struct.pack("<Q", 2 ** 40) + b"{}"))
    ck("garbage_config", lambda p: (p / "config.json").write_text("{not json"))
    ck("empty_config", lambda p: (p / "config.json").write_text(""))
    ck("config_without_model", lambda p: (p / "config.json").write_text(json.dumps({"weights": 1})))
    nan_model = _Tiny()
    with torch.no_grad():
        nan_model.lin.weight[0, 0] = float("nan")
    f["ck_nan_weights"] = save_checkpoint(d / "ck_nan", nan_model, config={"n": 3})
    f["ck_not_training"] = good
    return f


COMMON = ["missing", "directory", "empty", "text"]
AUDIO_CASES = COMMON + ["audio_truncated_wav", "audio_truncated_flac", "audio_nan", "audio_zero_length",
                        "audio_huge", "text_as_wav", "ok_png_as_audio"]
IMAGE_CASES = COMMON + ["image_truncated_png", "image_truncated_jpg", "image_nan", "image_zero_size",
                        "image_huge_side", "image_bomb", "text_as_png", "wav_as_png"]
VIDEO_CASES = COMMON + ["video_truncated", "video_header_only", "text_as_mp4", "wav_as_video"]
CKPT_CASES = ["missing", "empty", "ck_empty_dir", "ck_empty_weights", "ck_truncated_weights", "ck_text_weights",
              "ck_huge_header", "ck_garbage_config", "ck_empty_config", "ck_config_without_model",
              "ck_nan_weights"]


def _path(bad, case):
    if case == "ok_png_as_audio":
        return bad["wav_as_png"].with_name("ok.png")
    return bad[case]


def _expect(exc_type, path, fn, *, parent_ok: bool = False):
    with pytest.raises(exc_type) as info:
        fn(path)
    msg = str(info.value)
    named = str(path) in msg or Path(path).name in msg
    # a checkpoint loader given a file reads the folder it sits in, and names that folder
    assert named or (parent_ok and Path(path).is_file() and str(Path(path).parent) in msg), msg
    assert "\n" not in msg.strip(), msg  # one line for the CLI


def _load_sound(path):
    from latentstudio.soundscape.features import MelSpec, load_sound

    return load_sound(path, spec=MelSpec(), max_seconds=None)


def _load_sample(path):
    from latentstudio.beatbox.oneshots import load_sample

    return load_sample(path)


AUDIO_LOADERS = {"core.audio.load": audio.load, "soundscape.load_sound": _load_sound,
                 "beatbox.load_sample": _load_sample}


@pytest.mark.parametrize("loader", list(AUDIO_LOADERS))
@pytest.mark.parametrize("case", AUDIO_CASES)
def test_audio_loaders(bad, loader, case):
    if case == "audio_huge" and loader != "core.audio.load":
        pytest.skip("the huge case is about core.audio.load's default limit")
    _expect(ParameterError, _path(bad, case), AUDIO_LOADERS[loader])


@pytest.mark.parametrize("case", IMAGE_CASES)
def test_image_load(bad, case):
    _expect(ParameterError, bad[case], image.load)


VIDEO_LOADERS = {"read_video_frames": video.read_video_frames,
                 "iter_video_frames": lambda p: list(video.iter_video_frames(p)),
                 "extract_audio": lambda p: video.extract_audio(p, sr=16000),
                 "video_info": video.video_info}


@pytest.mark.parametrize("loader", list(VIDEO_LOADERS))
@pytest.mark.parametrize("case", VIDEO_CASES)
def test_video_readers(bad, loader, case):
    if loader == "video_info" and case == "video_truncated":
        pytest.skip("video_info reads only the header, which a half file still has")
    _expect(ParameterError, bad[case], VIDEO_LOADERS[loader])


def test_video_huge_side(bad):
    _expect(ParameterError, bad["video_huge_side"], lambda p: video.read_video_frames(p, max_side=32))


@pytest.mark.parametrize("case", COMMON + ["text_as_mid", "wav_as_video"])
def test_midi_read(bad, case):
    _expect(ParameterError, bad[case], midi.read_midi)


@pytest.mark.parametrize("case", CKPT_CASES)
def test_load_checkpoint(bad, case):
    _expect(ParameterError, bad[case], load_checkpoint, parent_ok=True)


@pytest.mark.parametrize("case", CKPT_CASES + ["ck_not_training"])
def test_load_training_checkpoint(bad, case):
    _expect(ParameterError, bad[case], lambda p: load_training_checkpoint(p, _Tiny()), parent_ok=True)


def test_checkpoint_of_unknown_or_misfit_model(tmp_path):
    good = save_checkpoint(tmp_path / "ok", _Tiny(), config={"n": 3})
    record = json.loads((good / "config.json").read_text())
    for name, change in [("unknown", {"model": "no_such_model", "module": "no_such_module"}),
                         ("bad_value", {"config": {"n": -5}}), ("misfit", {"config": {"n": 7}}),
                         ("bad_kwarg", {"config": {"width": 3}})]:
        (good / "config.json").write_text(json.dumps({**record, **change}))
        with pytest.raises(ModelError, match=str(good)):
            load_checkpoint(good)
    assert issubclass(ModelError, LatentStudioError)


@pytest.mark.parametrize(("model", "module"), [("system", "os"), ("Popen", "subprocess"),
                                               ("Linear", "torch.nn"), ("x", "latentstudio_evil"),
                                               ("tests_failures_tiny", None)])
def test_checkpoint_refuses_non_project_classes(tmp_path, model, module):
    """A config naming ``os`` or any class outside the registry is refused, and nothing is imported."""
    import sys

    from typer.testing import CliRunner

    from latentstudio.cli.main import app

    good = save_checkpoint(tmp_path / "ck", _Tiny(), config={"n": 3})
    record = json.loads((good / "config.json").read_text())
    if module is None:  # a registered name with a foreign module still builds only the registered class
        record.update(model=model, module="os")
    else:
        record.update(model=model, module=module)
        sys.modules.pop("latentstudio_evil", None)
    (good / "config.json").write_text(json.dumps(record))
    if module is None:
        assert isinstance(load_checkpoint(good)[0], _Tiny)
        return
    with pytest.raises(ModelError, match="not a latentstudio module|unknown model"):
        load_checkpoint(good)
    assert "latentstudio_evil" not in sys.modules
    voice = tmp_path / "voice.wav"
    sf.write(voice, (0.5 * np.sin(np.arange(8000) / 5.0)).astype(np.float32), 16000)
    r = CliRunner().invoke(app, ["beatbox", "classify", str(voice), "--model", str(good)])
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert "not a latentstudio module" in r.output or "unknown model" in r.output, r.output


@pytest.mark.parametrize("value", [123, None, 4.5])
def test_loaders_refuse_non_paths(value):
    for fn in (audio.load, image.load, video.read_video_frames, load_checkpoint):
        with pytest.raises(ParameterError):
            fn(value)
