"""Train a text or image VAE with the project's loop, filming its latent space as it learns.

Every ``snapshot_every`` steps (and densely over the first steps, where the space changes fastest) the
posterior means of all training items (the dots of the film) are written to ``OUTPUT/snapshots/``; at the end
they are joined into one memory-mappable ``snapshots.npy`` ``(S, N, d)`` float16 beside ``points.npz`` (their
labels, label names and the snapshot steps). Held-out items (validation, test) are embedded at the end only, to
measure how well the space generalises. A rerun with the same ``checkpoint_dir`` resumes the training and keeps
the snapshots already taken.

Example
-------
>>> from latentstudio.latent.data import load_data
>>> run = train_vae(load_data("fortunes", max_items=800), "out/vae", steps=200)   # doctest: +SKIP
>>> run.silhouette["first"] < run.silhouette["final"]                             # doctest: +SKIP
True
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from latentstudio.core.fileio import atomic_path
from latentstudio.errors import ParameterError
from latentstudio.latent.data import LatentData
from latentstudio.latent.vae import ImageVAE, TextVAE, negative_elbo, vae_loss
from latentstudio.zoo.checkpoint import load_checkpoint, save_checkpoint

SNAPSHOTS, POINTS = "snapshots.npy", "points.npz"


@dataclass
class Prepared:
    """A dataset as model inputs: ``x`` (sparse TF-IDF rows or image tensor) and reconstruction targets."""

    x: object
    target: object
    vocabulary: list[str] | None = None
    idf: np.ndarray | None = None

    def rows(self, idx) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets of these items (dense tensors)."""
        idx = np.asarray(idx)
        if self.vocabulary is not None:
            from latentstudio.latent.text import to_torch

            return to_torch(self.x[idx]), to_torch(self.target[idx])
        return self.x[torch.from_numpy(idx)], self.target[torch.from_numpy(idx)]

    def inputs(self, idx) -> torch.Tensor:
        """Inputs only; TF-IDF rows stay sparse (the encoder's first layer multiplies them as they are)."""
        idx = np.asarray(idx)
        if self.vocabulary is not None:
            from latentstudio.latent.text import to_torch_sparse

            return to_torch_sparse(self.x[idx])
        return self.x[torch.from_numpy(idx)]


def prepare(data: LatentData, *, max_words: int = 2000, min_df: int = 3) -> Prepared:
    """Vocabulary (from the train split only), TF-IDF and counts for texts; tensors for images."""
    if data.kind == "text":
        from latentstudio.latent.text import build_vocabulary, counts, tfidf_from_counts

        train_texts = [t for t, s in zip(data.items, data.split) if s == "train"]
        vocab = build_vocabulary(train_texts or list(data.items), max_words=max_words, min_df=min_df)
        c = counts(list(data.items), vocab)
        return Prepared(tfidf_from_counts(c, vocab.idf), c, vocab.words, vocab.idf)
    x = torch.from_numpy(np.ascontiguousarray(data.items, dtype=np.float32))
    return Prepared(x, x)


def build_model(data: LatentData, prep: Prepared, *, latent_dim: int = 2, hidden: int = 256, n_labels: int = 0):
    """The VAE that fits ``data`` (text or image, channels and size read from the items)."""
    if data.kind == "text":
        model = TextVAE(vocabulary=prep.vocabulary, latent_dim=latent_dim, hidden=hidden, n_labels=n_labels)
        model.idf.copy_(torch.from_numpy(prep.idf))
        return model
    _, c, h, w = data.items.shape
    if h != w:
        raise ParameterError(f"images must be square, got {h}x{w}")
    return ImageVAE(channels=c, size=h, latent_dim=latent_dim, width=max(16, hidden // 8), n_labels=n_labels)


@torch.no_grad()
def embed_all(model, prep: Prepared, idx: np.ndarray, *, batch_size: int = 4096) -> np.ndarray:
    """Posterior means of the items ``idx``, ``(len(idx), d)`` float32 (the model is left in its mode)."""
    was = model.training
    model.eval()
    out = [np.zeros((0, model.latent_dim), dtype=np.float32)]
    for i in range(0, len(idx), batch_size):
        xb = prep.inputs(idx[i:i + batch_size])
        out.append(model.embed(xb).numpy())
    model.train(was)
    return np.concatenate(out).astype(np.float32)


def silhouette(emb: np.ndarray, labels: np.ndarray, *, seed: int = 0, sample_size: int = 6000) -> float:
    """Silhouette score of embeddings by label (Euclidean; a seeded sample of at most ``sample_size``)."""
    from sklearn.metrics import silhouette_score

    if len(np.unique(labels)) < 2 or len(labels) < 3 or len(np.unique(labels)) >= len(labels):
        return float("nan")
    emb = np.asarray(emb, dtype=np.float64)
    if not np.isfinite(emb).all():
        raise ParameterError("embeddings contain NaN or infinite values")
    return float(silhouette_score(emb, labels, sample_size=min(sample_size, len(labels)), random_state=seed))


def snapshot_schedule(steps: int, every: int) -> list[int]:
    """Steps after which to snapshot: 0, every step up to ``every`` / 10 granularity at first (the space
    moves fastest early), then every ``every`` steps, and the last step."""
    fine = max(1, every // 10)
    out = set(range(0, min(steps, 2 * every) + 1, fine)) | set(range(0, steps + 1, every)) | {steps}
    return sorted(s for s in out if s <= steps)


@dataclass
class VAERun:
    """A finished training run: the model, where it went, and how its latent space came to be."""

    output: Path
    model: torch.nn.Module
    kind: str
    steps: int
    seconds: float
    snapshot_steps: list[int]
    silhouette: dict[str, float]
    validation_nelbo: float
    losses: list[float] = field(repr=False, default_factory=list)

    def summary(self) -> dict:
        return {"kind": self.kind, "steps": self.steps, "seconds": round(self.seconds, 2),
                "snapshots": len(self.snapshot_steps), "silhouette": self.silhouette,
                "validation_nelbo": self.validation_nelbo, "final_loss": self.losses[-1] if self.losses else None}


def _beta_at(step: int, beta: float, warmup: int) -> float:
    return beta if warmup <= 0 else beta * min(1.0, step / warmup)


def train_vae(data: LatentData, output: str | os.PathLike, *, latent_dim: int = 2, hidden: int = 256,
              steps: int = 3000, batch_size: int = 256, lr: float = 2e-3, beta: float = 1.0,
              warmup: int = 500, free_bits: float = 0.1, label_weight: float = 10.0,
              snapshot_every: int = 25, max_words: int = 2000,
              seed: int = 0, checkpoint_dir: str | os.PathLike | None = None,
              progress: Callable[[int, int, float], None] | None = None,
              meta: dict | None = None) -> VAERun:
    """Train a VAE on ``data``'s train split and film every item's embedding.

    Parameters
    ----------
    data : labelled items (:func:`latentstudio.latent.data.load_data`)
    output : folder for the model (safetensors + JSON config), ``snapshots.npy`` and ``points.npz``
    latent_dim, hidden : model size (2-D latent by default)
    steps, batch_size, lr : optimisation (AdamW, cosine decay)
    beta, warmup, free_bits : KL weight, its linear warm-up in steps, and free nats per latent dimension
    label_weight : weight of the label head's cross-entropy on the latent means (0: a purely unsupervised
        VAE; the labels then only colour the dots)
    snapshot_every : steps between snapshots of all embeddings (denser over the first ``2 x`` that)
    max_words : vocabulary size of a text model
    seed : everything random (initialisation, batches, sampling)
    checkpoint_dir : periodic checkpoints; a rerun resumes
    progress : ``progress(step, total, loss)``
    meta : extra provenance stored in the checkpoint

    Raises
    ------
    ParameterError : bad sizes, too little data
    """
    from latentstudio.train import TrainConfig, fit

    for name, v in (("steps", steps), ("batch_size", batch_size), ("snapshot_every", snapshot_every)):
        if not isinstance(v, int) or v < 1:
            raise ParameterError(f"{name}={v!r} must be a positive integer")
    if not all(np.isfinite(v) and v >= 0 for v in (beta, free_bits, warmup, label_weight)):
        raise ParameterError(f"beta={beta}, free_bits={free_bits}, warmup={warmup} and label_weight={label_weight} "
                             "must be finite numbers >= 0")
    train_idx = np.flatnonzero(data.split == "train")
    if len(train_idx) < 2:
        raise ParameterError(f"data {data.source!r} has {len(train_idx)} training items; at least 2 are needed")
    out = Path(output)
    torch.manual_seed(seed)
    prep = prepare(data, max_words=max_words)
    n_labels = len(data.label_names) if label_weight > 0 else 0
    model = build_model(data, prep, latent_dim=latent_dim, hidden=hidden, n_labels=n_labels)
    cfg = TrainConfig(steps=steps, batch_size=batch_size, lr=lr, seed=seed, scheduler="cosine",
                      warmup_steps=min(100, steps // 10), min_lr_ratio=0.05, grad_clip=5.0,
                      log_every=math.gcd(max(1, snapshot_every // 10), snapshot_every), checkpoint_dir=checkpoint_dir,
                      checkpoint_every=max(100, steps // 10), model_config=model.config()).validate()
    out.mkdir(parents=True, exist_ok=True)                # once the model and settings are known good
    labels_t = torch.from_numpy(data.labels)
    film = data.subset(train_idx)
    snap_dir = out / "snapshots"
    snap_dir.mkdir(exist_ok=True)
    schedule = snapshot_schedule(steps, snapshot_every)
    wanted = set(schedule)
    _unpack_snapshots(out, snap_dir, wanted)

    def snapshot(step: int) -> None:
        target = snap_dir / f"{step:08d}.npy"
        if not target.exists():
            with atomic_path(target) as tmp:
                with open(tmp, "wb") as fh:
                    np.save(fh, embed_all(model, prep, train_idx).astype(np.float16))

    first = embed_all(model, prep, train_idx)
    snapshot(0)
    train_t = torch.from_numpy(train_idx)

    def make_batch(step: int, g: torch.Generator):
        idx = train_t[torch.randint(len(train_t), (min(batch_size, len(train_t)),), generator=g)].numpy()
        x, target = prep.rows(idx)
        return x, target, labels_t[torch.from_numpy(idx)], torch.tensor(_beta_at(step, beta, warmup))

    def loss_fn(m, batch):
        x, target, y, b = batch
        return vae_loss(m, x, target, beta=float(b), free_bits=free_bits, labels=y, label_weight=label_weight)

    def on_progress(step: int, total: int, loss: float) -> None:
        if step in wanted:
            snapshot(step)
        if progress is not None:
            progress(step, total, loss)

    t0 = time.perf_counter()
    result = fit(model, data=make_batch, loss_fn=loss_fn, config=cfg, progress=on_progress)
    model.eval()
    final = embed_all(model, prep, train_idx)
    test_idx = np.flatnonzero(data.split == "test")
    sil = {"first": silhouette(first, film.labels, seed=seed), "final": silhouette(final, film.labels, seed=seed),
           "final_test": silhouette(embed_all(model, prep, test_idx), data.labels[test_idx], seed=seed)}
    val = np.flatnonzero(data.split == "validation")
    vx, vt = prep.rows(val) if len(val) else prep.rows(train_idx[:256])
    nelbo = negative_elbo(model, vx, vt)
    _join_snapshots(out, snap_dir, schedule)
    _save_points(out, film, schedule)
    record = {"source": data.source, "kind": data.kind, "label_names": data.label_names, "items": len(data),
              "dots": len(film),
              "seed": seed, "steps": steps, "silhouette": sil, "validation_nelbo": nelbo,
              "train_seconds": round(time.perf_counter() - t0, 1),
              "train": {"batch_size": batch_size, "lr": lr, "beta": beta, "warmup": warmup,
                        "free_bits": free_bits, "label_weight": label_weight, "snapshot_every": snapshot_every,
                        "max_words": max_words},
              **(meta or {})}
    save_checkpoint(out, model, config=model.config(), meta=record)
    return VAERun(out, model, data.kind, steps, time.perf_counter() - t0, schedule, sil, nelbo, result.losses)


def _unpack_snapshots(out: Path, snap_dir: Path, wanted: set[int]) -> None:
    """Snapshots a finished run already joined go back to one file per step, for a rerun that resumes."""
    try:
        joined = np.load(out / SNAPSHOTS, mmap_mode="r")
        steps = np.load(out / POINTS)["steps"]
    except (OSError, ValueError, KeyError):
        return
    if len(steps) != len(joined):
        return
    for k, s in enumerate(steps.tolist()):
        target = snap_dir / f"{s:08d}.npy"
        if s in wanted and not target.exists():
            with atomic_path(target) as tmp:
                with open(tmp, "wb") as fh:
                    np.save(fh, np.asarray(joined[k]))


def _join_snapshots(out: Path, snap_dir: Path, schedule: list[int]) -> None:
    arrays = [np.load(snap_dir / f"{s:08d}.npy") for s in schedule]
    with atomic_path(out / SNAPSHOTS) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, np.stack(arrays))
    shutil.rmtree(snap_dir)


def _save_points(out: Path, data: LatentData, schedule: list[int]) -> None:
    with atomic_path(out / POINTS) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, labels=data.labels, steps=np.asarray(schedule),
                     label_names=np.asarray(data.label_names, dtype="U64"))


@dataclass
class Filmed:
    """A trained model's film: snapshots ``(S, N, d)`` (memory-mapped float16), labels, label names."""

    snapshots: np.ndarray
    steps: np.ndarray
    labels: np.ndarray
    label_names: list[str]
    meta: dict


def load_film(folder: str | os.PathLike) -> Filmed:
    """The snapshots and labels a :func:`train_vae` run wrote.

    Raises
    ------
    ParameterError : not a trained latent model folder, or files that do not agree
    """
    d = Path(folder)
    if not (d / SNAPSHOTS).is_file() or not (d / POINTS).is_file():
        raise ParameterError(f"model {str(d)!r} has no {SNAPSHOTS} and {POINTS}; train it with "
                             "`latentstudio latent train`")
    try:
        snaps = np.load(d / SNAPSHOTS, mmap_mode="r")
        pts = np.load(d / POINTS, allow_pickle=False)
        labels, steps = pts["labels"], pts["steps"]
        names = [str(s) for s in pts["label_names"]]
    except (OSError, ValueError, KeyError) as exc:
        raise ParameterError(f"model {str(d)!r}: snapshot files are corrupt ({exc})") from None
    if snaps.ndim != 3 or snaps.shape[0] != len(steps) or snaps.shape[1] != len(labels):
        raise ParameterError(f"model {str(d)!r}: snapshots {snaps.shape} do not match {len(steps)} steps and "
                             f"{len(labels)} labels")
    meta = {}
    cfg = d / "config.json"
    if cfg.is_file():
        meta = json.loads(cfg.read_text()).get("meta", {})
    return Filmed(snaps, steps, labels, names, meta)


def load_vae(folder: str | os.PathLike):
    """A trained text or image VAE (eval mode)."""
    model, _ = load_checkpoint(folder)
    if not isinstance(model, (TextVAE, ImageVAE)):
        raise ParameterError(f"checkpoint {str(folder)!r} holds a {type(model).__name__}, not a latent VAE")
    return model
