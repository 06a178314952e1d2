"""The soundscape's batch commands on Ray: the same folder indexed through the local pool and through Ray
gives identical catalog rows (vectors bit for bit), from the Python API and from the CLI."""

from __future__ import annotations

import json

import soundfile as sf
from typer.testing import CliRunner

from latentstudio.catalog import Catalog
from latentstudio.cli.main import app
from latentstudio.soundscape.index import index_sounds, sound_files
from latentstudio.soundscape.library import build_library
from latentstudio.soundscape.student import load_student


def _more_sounds(sound_dir, tone):
    for i, f in enumerate((330, 440, 550, 660, 880)):
        sf.write(sound_dir / f"tone{i}.wav", tone(f, 0.5 + 0.25 * i), 16000)
    (sound_dir / "dup_of_low.wav").write_bytes((sound_dir / "low.wav").read_bytes())   # a copy under a new name
    return sound_files(sound_dir)


def test_index_local_and_ray_identical(ray_local, tmp_path, tiny_model_dir, sound_dir, tone, catalog_rows):
    model, info = load_student(tiny_model_dir)
    files = _more_sounds(sound_dir, tone)
    reports = {}
    for name, kw in {"local": {"workers": 2}, "ray": {"cluster": "auto"}}.items():
        with Catalog(tmp_path / name) as cat:
            reports[name] = index_sounds(files, catalog=cat, model=model, model_id=info["id"], **kw)
    assert len(reports["ray"].added) == len(reports["local"].added) == 8
    assert sorted(reports["ray"].failed) == sorted(reports["local"].failed) and len(reports["ray"].failed) == 2
    assert catalog_rows(tmp_path / "local") == catalog_rows(tmp_path / "ray")


def test_library_build_local_and_ray_identical(ray_local, tmp_path, tiny_model_dir, sound_dir, tone, catalog_rows):
    model, info = load_student(tiny_model_dir)
    _more_sounds(sound_dir, tone)
    reports = {}
    for name, kw in {"local": {"workers": 2}, "ray": {"cluster": "auto"}}.items():
        with Catalog(tmp_path / name) as cat:
            reports[name] = build_library(cat, model=model, model_id=info["id"], packages=[], folders=[sound_dir],
                                          **kw)
    a, b = reports["local"].summary(), reports["ray"].summary()
    assert (a["sounds"], a["added"], a["duplicates"], a["failed"]) == (b["sounds"], b["added"], b["duplicates"],
                                                                        b["failed"]) == (7, 7, 1, 2)
    assert catalog_rows(tmp_path / "local") == catalog_rows(tmp_path / "ray")


def test_cli_index_on_ray(ray_local, tmp_path, tiny_model_dir, sound_dir):
    res = CliRunner().invoke(app, ["soundscape", "index", str(sound_dir), "--catalog", str(tmp_path / "cat"),
                                   "--model", str(tiny_model_dir), "--cluster", "auto", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert (report["added"], report["failed"]) == (2, 2)
    res = CliRunner().invoke(app, ["soundscape", "index", str(sound_dir), "--catalog", str(tmp_path / "cat"),
                                   "--model", str(tiny_model_dir), "--cluster", "nowhere"])
    assert res.exit_code == 2 and "cluster" in res.output
