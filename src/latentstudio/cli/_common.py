"""Shared pieces of the CLI: error mapping, progress bars, JSON printing, artefact writing."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from latentstudio.errors import LatentStudioError, ParameterError


class LatentStudioGroup(TyperGroup):
    """Root click group: a LatentStudioError becomes one line on stderr and exit code 2."""

    def invoke(self, ctx):  # noqa: D401
        try:
            return super().invoke(ctx)
        except LatentStudioError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None
        except OSError as exc:  # the file system refused: read-only folder, a file where a folder should be, disk full
            where = " ".join(repr(str(f)) for f in (exc.filename, exc.filename2) if f is not None)
            typer.echo(f"error: {exc.strerror or exc}{': ' + where if where else ''}", err=True)
            raise typer.Exit(code=2) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(code=130) from None


#: Help of every ``--cluster`` option (commands whose per-file work runs through ``catalog.batch.map_items``).
CLUSTER_HELP = ("Where the per-file work runs: local (default: this machine's processes, --workers), auto (a Ray "
                "cluster: RAY_ADDRESS, a running one, or a new local instance), ray://HOST:PORT or HOST:PORT. "
                "Needs pip install 'latentstudio[cluster]' for Ray; RAY_ADDRESS alone also selects Ray.")


#: Largest --seed (every seed goes to NumPy and torch generators, which take 0 .. 2**32 - 1 everywhere).
SEED_MAX = 2**32 - 1


def seed_option(flag: str, help: str):
    """A seed option (default 0) that typer checks is within 0 .. :data:`SEED_MAX` (exit 2 otherwise: a
    negative seed reached NumPy as a traceback)."""
    return typer.Option(0, flag, min=0, max=SEED_MAX, help=help)


def workers_help(local_default: int) -> str:
    """Help of a ``--workers`` option whose work runs through ``catalog.batch.map_items``."""
    return (f"Parallel processes (default {local_default}{': this process' if local_default == 1 else ''}); "
            "on a Ray cluster: actors (default: one per CPU of the cluster).")


def new_group(help: str) -> typer.Typer:
    """A sub-command group with the project's defaults."""
    return typer.Typer(help=help, no_args_is_help=True, add_completion=False,
                       pretty_exceptions_enable=False, rich_markup_mode=None)


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    from latentstudio.provenance import _jsonable

    typer.echo(json.dumps(_jsonable(data), indent=2))


@contextlib.contextmanager
def progress(description: str, total: int | None = None, *, quiet: bool = False) -> Iterator[Any]:
    """A rich progress bar on stderr; yields ``advance(n=1)``. Silent when ``quiet`` or not a TTY in CI.

    The bar appears at the first ``advance``: a call that refuses its input before any work shows only its
    error line.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    disable = quiet or bool(os.environ.get("LATENTSTUDIO_QUIET"))
    console = Console(stderr=True)
    prog = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, disable=disable, transient=False)
    task = prog.add_task(description, total=total)
    started = False

    def advance(n: int = 1, *, total: int | None = None, description: str | None = None) -> None:
        nonlocal started
        if not started:
            prog.start()
            started = True
        prog.update(task, advance=n, total=total, description=description or prog.tasks[0].description)

    try:
        yield advance
    finally:
        if started:
            prog.stop()


def fit_progress(advance):
    """A ``progress(step, total, loss)`` callback for :func:`latentstudio.train.fit` driving ``advance``."""
    state = {"done": 0}

    def cb(step: int, total: int, loss: float) -> None:
        advance(step - state["done"], total=total, description=f"training (loss {loss:.3f})")
        state["done"] = step

    return cb


def count_progress(advance):
    """A ``progress(done, total)`` callback (cumulative counts, ``total`` may change) driving ``advance``."""
    state = {"done": 0}

    def cb(done: int, total: int) -> None:
        advance(done - state["done"], total=total)
        state["done"] = done

    return cb


def set_threads(threads: int) -> None:
    """Torch CPU threads for a command; refuses fewer than one."""
    import torch

    if threads < 1:
        raise ParameterError(f"--threads {threads} must be >= 1")
    torch.set_num_threads(threads)


def out_path(path: Path, *, suffixes: tuple[str, ...], name: str = "--output") -> Path:
    """Validate an output path's extension and that its folder can be made. Nothing is created here: the
    writer makes the folder when it writes (``core.fileio.atomic_path``), so a run refused later (a missing
    input, a bad setting) leaves no empty folder behind."""
    if path.suffix.lower() not in suffixes:
        raise ParameterError(f"{name} {str(path)!r} must end with one of {', '.join(suffixes)}")
    for up in path.absolute().parents:
        if up.exists():
            if not up.is_dir():
                raise ParameterError(f"{name} {str(path)!r}: {str(up)!r} is a file, not a folder")
            break
    return path


def existing(path: Path, *, what: str = "input") -> Path:
    """Check that an input path exists."""
    if not path.exists():
        raise ParameterError(f"{what} {str(path)!r} does not exist")
    return path


def stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


def parse_ints(text: str, *, option: str, lo: int, hi: int) -> tuple[int, ...]:
    """``"1,2,4"`` -> ``(1, 2, 4)``, each in ``lo..hi``. Raises ParameterError naming ``option``."""
    from latentstudio.errors import ParameterError

    try:
        out = tuple(int(v) for v in str(text).split(","))
    except ValueError:
        raise ParameterError(f"{option} {text!r} must be comma-separated integers") from None
    if not out or min(out) < lo or max(out) > hi:
        raise ParameterError(f"{option} {text!r} must be integers in {lo}..{hi}")
    return out


def parse_dilations(text: str, *, option: str = "--dilations") -> tuple[int, ...]:
    """``"1,2,4"`` -> ``(1, 2, 4)``: dilations of a network's temporal convolutions, each in 1..512.
    Raises ParameterError naming ``option``."""
    return parse_ints(text, option=option, lo=1, hi=512)
