"""The user's sample library in the catalog, searchable by NeuralFunk's latent space.

:func:`index_library` stores each sound's SampleVAE latent in the catalog (space ``"funk"``; files already
catalogued are skipped, so an interrupted ingest resumes); :func:`similar` finds the library's nearest sounds
to any sound or latent — a dream, a blend, a file.

Example
-------
>>> vae, info, _ = load_funk_models()                                  # doctest: +SKIP
>>> index_library("~/samples", vae=vae)                                # doctest: +SKIP
>>> [(item.path.name, round(s, 2)) for item, s in similar("kick.wav", vae=vae, k=3)]   # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

SPACE = "funk"
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aif", ".aiff", ".mp3")


def library_files(folder: str | os.PathLike) -> list[Path]:
    """Sound files under ``folder`` (recursively), sorted."""
    from latentstudio.core.fileio import files_under

    return files_under(folder, AUDIO_SUFFIXES, what="library", kind="sound files")


class EncodeSample:
    """The batch job of :func:`index_library` (see :func:`latentstudio.catalog.batch.map_items`): a sound file
    in, its catalog record (duration, SampleVAE latent) out; the VAE travels with the job."""

    def __init__(self, vae) -> None:
        self.vae = vae

    def setup(self, device: str) -> None:
        self.vae.eval()

    def __call__(self, path: Path) -> dict:
        from latentstudio.funk.pipeline import encode, load_sounds

        audio = load_sounds([path])
        return {"kind": "sound", "duration": float(audio.shape[1] / 16000),
                "vectors": {SPACE: encode(self.vae, audio)[0]}}


def index_library(folder: str | os.PathLike, *, vae, catalog=None, progress=None, workers: int = 1,
                  cluster: str | None = None):
    """Catalogue every sound under ``folder`` with its latent; returns the catalog's :class:`IngestReport`.

    ``workers`` local processes (1: this process) or a Ray ``cluster`` do the encoding
    (see :func:`latentstudio.catalog.batch.map_items`)."""
    from latentstudio.catalog import Catalog

    files = library_files(folder)
    cat = catalog if catalog is not None else Catalog()
    try:
        return cat.ingest(files, EncodeSample(vae), progress=progress, workers=workers, cluster=cluster)
    finally:
        if catalog is None:
            cat.close()


def similar(query, *, vae, k: int = 5, catalog=None):
    """The ``k`` library sounds nearest ``query`` (a sound file, or a latent ``(latent_dim,)``), with cosine
    similarities, best first."""
    from latentstudio.catalog import Catalog
    from latentstudio.funk.pipeline import encode, load_sounds

    z = np.asarray(query, dtype=np.float32) if not isinstance(query, (str, os.PathLike)) else \
        encode(vae, load_sounds([query]))[0]
    cat = catalog if catalog is not None else Catalog()
    try:
        return cat.search(SPACE, z, k=k)[0]
    finally:
        if catalog is None:
            cat.close()
