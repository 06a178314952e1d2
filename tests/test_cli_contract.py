"""What every command promises (README, issue 19): ``--help`` with a runnable-looking example, ``--seed``
exactly where a command draws random numbers (no option that does nothing), ``--json`` where it returns
results. A new command joins a table below only by a decision."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from latentstudio.cli.main import app

runner = CliRunner()

#: Commands that draw no random numbers: they take no --seed.
DETERMINISTIC = {"classify", "assets", "dj analyze", "dj beats", "beatbox segment", "beatbox classify",
                 "beatbox join-onsets",
                 "soundscape index", "soundscape query", "soundscape library build", "funk index", "funk similar",
                 "funk encode", "seeing run"}
#: Commands that return nothing to print as JSON (a server).
NO_RESULTS = {"studio"}


def _commands() -> dict[str, object]:
    found = {}

    def walk(cmd, path):
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])
        else:
            found[" ".join(path)] = cmd

    walk(typer.main.get_command(app), [])
    return found


COMMANDS = _commands()


def _options(cmd) -> set[str]:
    return {opt for param in cmd.params for opt in param.opts}


def test_seed_exactly_where_randomness_is_drawn():
    without = {name for name, cmd in COMMANDS.items() if "--seed" not in _options(cmd)}
    assert without == DETERMINISTIC


def test_json_wherever_results_are_returned():
    without = {name for name, cmd in COMMANDS.items() if "--json" not in _options(cmd)}
    assert without <= NO_RESULTS, without - NO_RESULTS


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_shows_an_example_of_the_command(name):
    r = runner.invoke(app, [*name.split(), "--help"])
    assert r.exit_code == 0, r.output
    assert f"Example: latentstudio {name}" in " ".join(r.stdout.split()), r.stdout


def test_demo_json_names_the_page_and_failures(tmp_path):
    r = runner.invoke(app, ["demo", "-o", str(tmp_path), "--only", "classify", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out == {"page": str(tmp_path / "index.html"), "sections": ["classify"], "failed": []}
    assert (tmp_path / "index.html").is_file()
