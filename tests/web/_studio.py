"""Small real inputs for the studio tests: a tiny soundscape student and sound folder, a tiny dream net,
tiny perceive classifiers, a three-track DJ record box, a synthetic beatbox voice, a small picture, a tiny
GAN generator with a tiny speed-measuring network, a click track."""

from __future__ import annotations

import importlib.util
import io
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

TESTS = Path(__file__).resolve().parents[1]
SR = 22050


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def tiny_student(folder: Path) -> Path:
    from latentstudio.soundscape.student import SoundscapeStudent
    from latentstudio.zoo.checkpoint import save_checkpoint

    tiny = {"channels": [4, 8], "embedding_dim": 16, "num_classes": 1000, "dropout": 0.0}
    torch.manual_seed(0)
    save_checkpoint(folder, SoundscapeStudent(**tiny).eval(), config=tiny,
                    meta={"heldout": {"names": [], "groups": []}})
    return folder


def tone(freq: float, seconds: float = 1.0, sr: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def sound_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    sf.write(folder / "low.wav", tone(220), 16000)
    sf.write(folder / "high.wav", tone(1760, 2.0), 16000)
    sf.write(folder / "mid.wav", tone(660, 1.5), 16000)
    return folder


def dj_folder(folder: Path) -> Path:
    from latentstudio.dj.music import TrackSpec, write_library

    specs = (TrackSpec(bpm=120.0, tonic=9, minor=True, style="house", bars=10, seed=1, intro_bars=1),
             TrackSpec(bpm=123.0, tonic=4, minor=True, style="rock", bars=10, seed=2, intro_bars=1),
             TrackSpec(bpm=62.0, tonic=0, minor=False, style="halftime", bars=6, seed=3, intro_bars=0))
    write_library(folder, specs, sr=SR)
    return folder


def voice(seed: int = 0) -> np.ndarray:
    """A synthetic beatbox recording: kick, hat, kick, hat, kick (as tests/beatbox/conftest.py)."""
    bb = _load(TESTS / "beatbox" / "conftest.py", "_bb_conftest")
    rng = np.random.default_rng(seed)
    y = np.zeros(int(2.4 * SR), np.float32)
    for i, t in enumerate([0.2, 0.6, 1.0, 1.4, 1.8]):
        s = bb.kick(rng) if i % 2 == 0 else bb.hat(rng)
        a = int(t * SR)
        y[a:a + len(s)] += s
    return y


def voice_wav(seed: int = 0) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, voice(seed), SR, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def png_bytes(side: int = 48, seed: int = 0) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    img = Image.fromarray((rng.random((side, side, 3)) * 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def tiny_gan(folder: Path) -> Path:
    """A 16 px generator of the project's GAN (random weights), saved as `gan glitch --save-model` saves one."""
    from latentstudio.gan.models import Generator
    from latentstudio.zoo.checkpoint import save_checkpoint

    torch.manual_seed(0)
    g = Generator(image_size=16, latent_dim=8, width=4, max_channels=16).eval()
    save_checkpoint(folder, g, config=g.config(), meta={"licence": "test generator"})
    return folder


def tiny_features():
    """The GAN tests' fixed random conv net standing in for EfficientNet-Lite0 (tests/gan/conftest.py)."""
    return _load(TESTS / "gan" / "conftest.py", "_gan_conftest").TinyFeatures().eval()


def clicks_wav(bpm: float = 120.0, seconds: float = 3.2, sr: int = SR) -> bytes:
    """A click on every beat (as tests/gan/test_cli.py's beat walk)."""
    y = np.zeros(int(sr * seconds), dtype=np.float32)
    click = (np.exp(-np.arange(800) / 80.0) * np.sin(np.arange(800) * 0.3)).astype(np.float32)
    for t in np.arange(0.25, seconds - 0.1, 60 / bpm):
        y[int(t * sr):int(t * sr) + 800] += click
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def settings(tmp: Path) -> dict:
    """create_app overrides: every model tiny or shipped-and-small, every input short."""
    nets = _load(TESTS / "optvis" / "_nets.py", "_nets")
    tiny = _load(TESTS / "perception" / "_tiny.py", "_tiny")
    return dict(soundscape_model=tiny_student(tmp / "student"), sound_source=str(sound_folder(tmp / "sounds")),
                soundscape_seconds=4.0, dj_library=dj_folder(tmp / "djlib"), beatbox_bars=4,
                dream_model=nets.tiny_net(0), dream_layer="6", dream_max_side=64,
                perceive_models=[tiny.tiny_classifier(1), tiny.tiny_classifier(2)],
                perceive_holdout=[tiny.tiny_classifier(3)], perceive_size=128,
                gan_model=str(tiny_gan(tmp / "gan")), gan_feature_model=tiny_features(), gan_feature_size=32,
                gan_backend="flux", latent_max_items=300, latent_resolution=64, latent_film_size=(640, 360))


def wait(client, job_id: str, timeout: float = 60.0) -> dict:
    """Poll a job until it finishes; returns its final state."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s: {job}")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real uvicorn server for ``app`` on a free loopback port, in a thread (a context manager)."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="on"))

    def __enter__(self):
        import threading

        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)
        self.thread.start()
        t0 = time.monotonic()
        while not self.server.started:
            if time.monotonic() - t0 > 30 or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


def slow_steps(studio, delay: float) -> None:
    """Make the studio's dreams wait ``delay`` s at every progress report (the real dream, made slow enough
    that a test can cancel it mid-run or overlap it with requests on any machine)."""
    original = studio.run_dream

    def run_dream(*args, progress, **kwargs):
        def slowed(*a, **k):
            time.sleep(delay)
            progress(*a, **k)
        return original(*args, progress=slowed, **kwargs)

    studio.run_dream = run_dream
