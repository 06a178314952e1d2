"""``python -m bench list | all | NAME [ARGS...]`` — run the benchmark scripts in ``bench/``."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def names() -> list[str]:
    """Benchmark scripts: ``bench/*.py`` except this runner and private modules."""
    return sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_"))


def summary(name: str) -> str:
    """First line of a script's docstring, read without importing it."""
    doc = ast.get_docstring(ast.parse((HERE / f"{name}.py").read_text()))
    return doc.strip().splitlines()[0] if doc else ""


def run_one(name: str, args: list[str]) -> None:
    """Import ``bench.NAME`` and call its ``main()`` with ``args`` as the command line."""
    module = importlib.import_module(f"bench.{name}")
    if not hasattr(module, "main"):
        raise SystemExit(f"bench/{name}.py has no main()")
    sys.argv = [str(HERE / f"{name}.py"), *args]
    module.main()


def run_all(args: list[str]) -> int:
    """Run every script in its own process; print ``{name: result}``; exit 1 if any failed."""
    results, failed = {}, []
    for name in names():
        t0 = time.perf_counter()
        print(f"bench {name} ...", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, "-m", "bench", name, *args], capture_output=True, text=True,
                              cwd=HERE.parent)
        seconds = round(time.perf_counter() - t0, 1)
        try:
            results[name] = json.loads(proc.stdout) if proc.returncode == 0 else None
        except json.JSONDecodeError:
            results[name] = None
        if results[name] is None:
            failed.append(name)
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
            results[name] = {"error": f"exit {proc.returncode}", "stderr_tail": tail}
            print(f"bench {name} FAILED after {seconds} s: {' | '.join(tail)}", file=sys.stderr, flush=True)
        else:
            print(f"bench {name} done in {seconds} s", file=sys.stderr, flush=True)
    print(json.dumps(results, indent=2))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip())
        print("\nbenchmarks: " + ", ".join(names()))
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "list":
        for name in names():
            print(f"{name:16s} {summary(name)}")
        return 0
    if cmd == "all":
        return run_all(rest)
    if cmd not in names():
        print(f"unknown benchmark {cmd!r}; known: {', '.join(names())}", file=sys.stderr)
        return 2
    run_one(cmd, rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
