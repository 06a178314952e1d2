"""NeuralFunk's shipped models and the one loader the CLI and the web use."""

from __future__ import annotations

import os
from pathlib import Path

from latentstudio.errors import ParameterError

SHIPPED_VAE = Path(__file__).resolve().parent.parent / "data" / "models" / "funk_vae"
SHIPPED_WAVENET = Path(__file__).resolve().parent.parent / "data" / "models" / "funk_wavenet"


def load_funk_models(vae: str | os.PathLike | None = None, wavenet: str | os.PathLike | None = None):
    """``(vae, info, wavenet or None)``: the given folders, or the shipped SampleVAE (and no WaveNet: Griffin-Lim).
    ``wavenet="shipped"`` names the shipped WaveNet (trained on the shipped VAE's latents).

    Raises
    ------
    ParameterError : a missing or corrupt folder, or no shipped VAE
    """
    from latentstudio.funk.training import load_sample_vae

    path = Path(vae) if vae is not None else SHIPPED_VAE
    if not path.exists():
        raise ParameterError(f"model {str(path)!r} does not exist" + (
            "" if vae is not None else "; train one with `latentstudio funk train-vae -o DIR`"))
    model, info = load_sample_vae(path)
    net = None
    if wavenet is not None:
        from latentstudio.zoo.checkpoint import load_checkpoint

        if str(wavenet) == "shipped":
            wavenet = SHIPPED_WAVENET
        if not Path(wavenet).exists():
            raise ParameterError(f"wavenet {str(wavenet)!r} does not exist")
        net, _ = load_checkpoint(wavenet)
    return model, info, net
