"""Checkpoints that rebuild themselves: safetensors weights + a JSON config. Never pickle.

A checkpoint is a folder::

    model.safetensors   the state dict (and any extra named tensors)
    config.json         {"model": NAME, "module": MODULE, "config": {constructor kwargs}, "meta": {...}}

Classes register under a name with :func:`register_model`; :func:`load_checkpoint` imports the
recorded module, looks the class up and calls it with the recorded constructor arguments.

Example
-------
>>> import torch
>>> @register_model("doc_tiny")
... class Tiny(torch.nn.Module):
...     def __init__(self, width=4):
...         super().__init__()
...         self.lin = torch.nn.Linear(width, 1)
>>> import tempfile
>>> d = tempfile.mkdtemp()
>>> _ = save_checkpoint(d, Tiny(width=4), config={"width": 4})
>>> model, info = load_checkpoint(d)
>>> info["config"]
{'width': 4}
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from latentstudio.core.fileio import atomic_path, atomic_write_text
from latentstudio.errors import ModelError, ParameterError

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
_REGISTRY: dict[str, type] = {}


def register_model(name: str):
    """Class decorator: make ``cls`` loadable by :func:`load_checkpoint` under ``name``."""

    def deco(cls: type) -> type:
        _REGISTRY[name] = cls
        cls._checkpoint_name = name
        return cls

    return deco


def registered_models() -> dict[str, type]:
    """The registered model classes by name."""
    return dict(_REGISTRY)


def _json_ready(obj: Any) -> Any:
    """Plain JSON values; NaN and infinities become null (JSON has no NaN)."""
    text = json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
    return json.loads(text, parse_constant=lambda name: None)


def save_checkpoint(directory: str | os.PathLike, model: torch.nn.Module, *, config: dict[str, Any],
                    meta: dict[str, Any] | None = None,
                    extra_tensors: dict[str, torch.Tensor] | None = None) -> Path:
    """Write ``model``'s weights and its constructor ``config`` to ``directory`` atomically.

    ``extra_tensors`` (e.g. optimiser moments) are stored in the same file under ``"extra."`` keys.
    Returns the folder.
    """
    from safetensors.torch import save_file

    name = getattr(type(model), "_checkpoint_name", None)
    if name is None:
        raise ModelError(f"{type(model).__name__} is not registered; decorate it with @register_model(name)")
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for k, v in (extra_tensors or {}).items():
        tensors[f"extra.{k}"] = v.detach().cpu().contiguous()
    # safetensors refuses shared storage: clone tensors that alias each other
    seen: set[int] = set()
    for k, v in tensors.items():
        ptr = v.untyped_storage().data_ptr() if v.numel() else id(v)
        if ptr in seen:
            tensors[k] = v.clone()
        seen.add(ptr)
    with atomic_path(d / WEIGHTS) as tmp:
        save_file(tensors, str(tmp))
    record = {"model": name, "module": type(model).__module__, "config": _json_ready(config),
              "meta": _json_ready(meta or {})}
    atomic_write_text(d / CONFIG, json.dumps(record, indent=2) + "\n")
    return d


def _folder(directory: str | os.PathLike) -> Path:
    """A checkpoint folder, given the folder or one of its files."""
    d = Path(directory)
    return d.parent if d.is_file() else d


def split_tensors(tensors: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Split a checkpoint's tensors into the model's state dict and the ``extra`` tensors (prefix removed)."""
    state = {k: v for k, v in tensors.items() if not k.startswith("extra.")}
    extra = {k[len("extra."):]: v for k, v in tensors.items() if k.startswith("extra.")}
    return state, extra


def read_config(directory: str | os.PathLike) -> dict[str, Any]:
    """The JSON record of a checkpoint folder (model name, module, config, meta)."""
    d = _folder(directory)
    cfg = d / CONFIG
    if not cfg.exists():
        raise ParameterError(f"checkpoint {str(d)!r} has no {CONFIG}")
    try:
        record = json.loads(cfg.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParameterError(f"checkpoint config {str(cfg)!r} is not valid JSON ({exc})") from None
    if not isinstance(record, dict) or "model" not in record or "config" not in record:
        raise ParameterError(f"checkpoint config {str(cfg)!r} lacks 'model' and 'config'")
    return record


def load_tensors(directory: str | os.PathLike) -> dict[str, torch.Tensor]:
    """All tensors of a checkpoint folder's weights file (safetensors, no code execution)."""
    from safetensors.torch import load_file

    d = _folder(directory)
    path = d / WEIGHTS
    if not path.exists():
        raise ParameterError(f"checkpoint {str(d)!r} has no {WEIGHTS}")
    if path.stat().st_size == 0:
        raise ParameterError(f"checkpoint weights {str(path)!r} are empty (0 bytes)")
    try:
        tensors = load_file(str(path))
    except Exception as exc:
        raise ParameterError(f"checkpoint weights {str(path)!r} are corrupt ({exc})") from None
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise ParameterError(f"checkpoint weights {str(path)!r} contain NaN or infinite values in "
                             f"{', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''}")
    return tensors


def load_checkpoint(directory: str | os.PathLike, *, device: str = "cpu",
                    eval_mode: bool = True) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild the model saved in ``directory`` and load its weights.

    Returns ``(model, info)``; ``info`` has ``config``, ``meta`` and ``extra`` (extra tensors).

    Raises
    ------
    ParameterError : missing or corrupt files
    ModelError : unknown model class or weights that do not fit it
    """
    if not isinstance(directory, (str, os.PathLike)):
        raise ParameterError(f"checkpoint path must be a str or path, got {type(directory).__name__}")
    d = Path(directory)
    if not d.exists():
        raise ParameterError(f"checkpoint {str(d)!r} does not exist")
    record = read_config(d)
    name, module = record["model"], record.get("module")
    if not isinstance(name, str) or (module is not None and not isinstance(module, str)):
        raise ModelError(f"checkpoint {str(d)!r}: 'model' and 'module' must be strings")
    if name not in _REGISTRY and module:
        # only the project's own modules are imported: a downloaded checkpoint must not run other code
        if module != "latentstudio" and not module.startswith("latentstudio."):
            raise ModelError(f"checkpoint {str(d)!r}: module {module!r} is not a latentstudio module; "
                             "only registered latentstudio models are built")
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ModelError(f"checkpoint {str(d)!r}: cannot import module {module!r} ({exc})") from None
    cls = _REGISTRY.get(name)
    if cls is None:
        raise ModelError(f"checkpoint {str(d)!r}: unknown model {name!r}; known: {sorted(_REGISTRY)}")
    try:
        model = cls(**record["config"])
    except Exception as exc:  # TypeError for unknown kwargs, anything the constructor raises for bad values
        raise ModelError(f"checkpoint {str(d)!r}: config does not fit {cls.__name__} ({exc})") from None
    state, extra = split_tensors(load_tensors(d))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise ModelError(f"checkpoint {str(d)!r}: weights do not fit {cls.__name__} ({first})") from None
    model.to(device)
    if eval_mode:
        model.eval()
    return model, {"config": record["config"], "meta": record.get("meta", {}), "extra": extra, "path": str(d)}
