"""latentstudio — the AI-art systems of the Qosmo era as instruments for artists.

Floors (lower never imports upper):

* floor 0 — :mod:`latentstudio.core` (audio, spectral, image, video, rhythm, midi),
  :mod:`latentstudio.errors`, :mod:`latentstudio.assets`
* floor 1 — :mod:`latentstudio.zoo`, :mod:`latentstudio.train`, :mod:`latentstudio.catalog`,
  :mod:`latentstudio.optvis`
* floor 2 — one package per system: ``dream``, ``perception``, ``dj``, ``beatbox``, ``soundscape`` ...
* floor 3 — :mod:`latentstudio.cli` (typer) and :mod:`latentstudio.web` (FastAPI)
"""

__version__ = "0.1.0"

from latentstudio.errors import AssetMissingError, LatentStudioError, ModelError, ParameterError

__all__ = ["__version__", "LatentStudioError", "ParameterError", "AssetMissingError", "ModelError"]
