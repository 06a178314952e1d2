"""The student: a small spectrogram CNN that hears a sound and guesses what the teacher would see.

Log-mel in, an embedding layer in the middle, a 1000-way head on top (the teacher's class space).
Images and sounds meet in the embedding space through the head: an image's teacher distribution
``p`` maps to ``normalize(p @ W)`` (``W`` = the head's weights, one prototype vector per class), a
sound to ``normalize(embedding)``; their cosine is, up to a per-sound constant, the expected student
logit under the teacher's distribution. Both sides are deterministic.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from latentstudio.errors import ParameterError
from latentstudio.soundscape.features import MelSpec, normalized_log_mel, sound_windows
from latentstudio.zoo.checkpoint import register_model


class _Block(nn.Module):
    """3x3 convolution, batch norm, ReLU, then 2x2 max pooling (except in the last block)."""

    def __init__(self, cin: int, cout: int, *, pool: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(torch.relu(self.bn(self.conv(x))))


@register_model("soundscape_student")
class SoundscapeStudent(nn.Module):
    """Spectrogram CNN with an embedding layer and a teacher-sized classification head.

    Parameters
    ----------
    channels : output channels of the conv blocks (each halves time and frequency but the last)
    embedding_dim : width of the embedding (and of the vectors in the sound index)
    num_classes : size of the teacher's class space (1000 for ImageNet)
    dropout : dropout before the embedding layer (training only)
    mel : :class:`~latentstudio.soundscape.features.MelSpec` fields (front-end settings)
    teacher : the zoo classifier it was distilled from
    temperature : the teacher temperature it was trained at
    teacher_views : how the teacher looked at its pictures (:data:`~.teacher.VIEWS`; older models: the crop)

    Example
    -------
    >>> net = SoundscapeStudent(channels=(8, 16), embedding_dim=16).eval()
    >>> emb, logits = net(torch.zeros(2, 64, 63))
    >>> tuple(emb.shape), tuple(logits.shape)
    ((2, 16), (2, 1000))
    """

    def __init__(self, *, channels: tuple[int, ...] | list[int] = (16, 32, 64, 128), embedding_dim: int = 64,
                 num_classes: int = 1000, dropout: float = 0.2, mel: dict | None = None,
                 teacher: str = "efficientnet_lite0", temperature: float = 1.0, teacher_views: str = "crop") -> None:
        super().__init__()
        channels = tuple(int(c) for c in channels)
        if not channels or min(channels) <= 0:
            raise ParameterError(f"channels={channels!r} must be a non-empty list of positive integers")
        if embedding_dim <= 0 or num_classes <= 1:
            raise ParameterError(f"embedding_dim={embedding_dim}, num_classes={num_classes} must be positive")
        self.mel = MelSpec(**(mel or {}))
        self.teacher_name = teacher
        self.temperature = float(temperature)
        self.teacher_views = teacher_views
        self.embedding_dim = int(embedding_dim)
        self.num_classes = int(num_classes)
        self.input_bn = nn.BatchNorm2d(1)
        blocks, cin = [], 1
        for i, c in enumerate(channels):
            blocks.append(_Block(cin, c, pool=i < len(channels) - 1))
            cin = c
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.embedding = nn.Linear(2 * cin, embedding_dim)
        self.head = nn.Linear(embedding_dim, num_classes)
        #: teacher distributions of the training images and reference pictures ``(R, classes)``: the reference
        #: queries of CSLS
        #: (set by :func:`load_student` and by training; None for an untrained net)
        self.reference: np.ndarray | None = None

    def forward(self, spectrogram: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(N, n_mels, frames)`` normalised log-mel -> (embedding ``(N, D)``, logits ``(N, classes)``)."""
        if spectrogram.ndim != 3 or spectrogram.shape[1] != self.mel.n_mels:
            raise ParameterError(f"spectrogram must be (N, {self.mel.n_mels}, frames), "
                                 f"got {tuple(spectrogram.shape)}")
        x = self.blocks(self.input_bn(spectrogram[:, None]))
        x = x.mean(dim=2)                                     # over frequency -> (N, C, T)
        x = torch.cat([x.mean(dim=2), x.amax(dim=2)], dim=1)  # mean and max over time
        emb = self.embedding(self.dropout(x))
        return emb, self.head(emb)

    # ----------------------------------------------------------------------------- inference helpers
    @torch.no_grad()
    def embed_windows(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Windows ``(n, samples)`` of one sound -> (unit embedding ``(D,)``, class probabilities ``(classes,)``).

        Window embeddings are averaged (pooled) before normalising; probabilities are averaged.
        """
        S = normalized_log_mel(np.ascontiguousarray(windows, dtype=np.float32), spec=self.mel)
        emb, logits = self(S.to(self.head.weight.device))
        pooled = emb.mean(dim=0)
        pooled = pooled / pooled.norm().clamp_min(1e-8)
        probs = torch.softmax(logits, dim=1).mean(dim=0)
        return pooled.cpu().numpy().astype(np.float32), probs.cpu().numpy().astype(np.float32)

    def embed_sound(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A mono signal at ``self.mel.sr`` -> (unit embedding, class probabilities); deterministic.

        Example
        -------
        >>> net = SoundscapeStudent(channels=(8, 16), embedding_dim=16).eval()
        >>> vec, probs = net.embed_sound(np.random.default_rng(0).standard_normal(48000).astype(np.float32))
        >>> vec.shape, round(float(np.linalg.norm(vec)), 4), probs.shape
        ((16,), 1.0, (1000,))
        """
        was_training = self.training
        self.eval()
        try:
            return self.embed_windows(sound_windows(y, spec=self.mel))
        finally:
            self.train(was_training)

    def query_vectors(self, probs) -> torch.Tensor:
        """Teacher distributions ``(N, classes)`` -> unit query vectors ``(N, D)`` in the sound space."""
        p = torch.as_tensor(np.asarray(probs, dtype=np.float32) if not isinstance(probs, torch.Tensor) else probs)
        if p.ndim == 1:
            p = p[None]
        if p.shape[-1] != self.num_classes:
            raise ParameterError(f"teacher distribution has {p.shape[-1]} classes, the student {self.num_classes}")
        q = p.to(self.head.weight.device, self.head.weight.dtype) @ self.head.weight
        return q / q.norm(dim=-1, keepdim=True).clamp_min(1e-8)


__all__ = ["SoundscapeStudent"]


# --------------------------------------------------------------------------------------- shipped model
def default_model_path():
    """Folder of the shipped student (trained by ``latentstudio soundscape train`` on the Tux Paint pairs)."""
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "data" / "models" / "soundscape_student"


def load_student(path=None, *, device: str = "cpu") -> tuple[SoundscapeStudent, dict]:
    """Load a trained student (default: the shipped one) -> ``(model, info)``; ``info["id"]`` names its weights.

    Raises
    ------
    ModelError : no shipped model (train one with ``latentstudio soundscape train``) or not a student

    Example
    -------
    >>> model, info = load_student()
    >>> model.embedding_dim, len(info["id"])
    (64, 12)
    """
    import hashlib
    from pathlib import Path

    from latentstudio.errors import ModelError
    from latentstudio.zoo.checkpoint import WEIGHTS, load_checkpoint

    d = Path(path) if path is not None else default_model_path()
    if path is None and not (d / WEIGHTS).exists():
        raise ModelError(f"the shipped soundscape model is missing at {str(d)!r}; train one with "
                         f"`latentstudio soundscape train -o {d}`")
    model, info = load_checkpoint(d, device=device)
    if not isinstance(model, SoundscapeStudent):
        raise ModelError(f"checkpoint {str(d)!r} holds a {type(model).__name__}, not a soundscape student")
    h = hashlib.sha1((Path(info["path"]) / WEIGHTS).read_bytes()).hexdigest()
    info["id"] = h[:12]
    ref = (info.get("extra") or {}).get("reference_probs")
    model.reference = None if ref is None else ref.float().cpu().numpy()
    return model, info


__all__ += ["default_model_path", "load_student"]
