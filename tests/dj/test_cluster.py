"""`dj analyze` on Ray: the same folder analysed through the local pool and through Ray gives identical catalog
rows, bad files reported the same way."""

from __future__ import annotations

from latentstudio.dj.analysis import library_files
from latentstudio.dj.pipeline import analyse_folder


def test_analyse_local_and_ray_identical(ray_local, formats_library, tmp_path, catalog_rows):
    files = library_files(formats_library)
    libs = {name: analyse_folder(formats_library, files=files, catalog=tmp_path / name, **kw)
            for name, kw in {"local": {"workers": 2}, "ray": {"cluster": "auto"}}.items()}
    assert [a["path"] for a in libs["local"].analyses] == [a["path"] for a in libs["ray"].analyses]
    assert len(libs["ray"].analyses) == 4 and len(libs["ray"].failures) == 3
    assert libs["local"].failures == libs["ray"].failures
    assert catalog_rows(tmp_path / "local") == catalog_rows(tmp_path / "ray")


def test_cli_refuses_an_unknown_cluster(formats_library):
    from typer.testing import CliRunner

    from latentstudio.cli.main import app

    res = CliRunner().invoke(app, ["dj", "analyze", str(formats_library), "--cluster", "nowhere"])
    assert res.exit_code == 2 and "cluster" in res.output and "Traceback" not in res.output
