"""The execution layer (catalog.batch): outcomes in input order, bad items reported, dead workers lose nothing,
the same results on the local pool and on Ray, and catalog ingests that survive a killed worker."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from latentstudio.catalog import Catalog
from latentstudio.catalog.batch import BatchJobError, backend_name, map_items, resolve_cluster
from latentstudio.errors import ParameterError

sys.path.insert(0, str(Path(__file__).parent))
import _jobs  # noqa: E402


def _check(outcomes, n):
    assert [o.index for o in outcomes] == list(range(n))                     # every item once, in order
    for o in outcomes:
        if o.item == 13:
            assert not o.ok and o.error == "ValueError: thirteen is unlucky" and o.value is None
        else:
            assert o.ok and o.value["sq"] == o.item ** 2
            assert o.value["vec"].dtype == np.float32 and o.value["vec"].tolist() == [0, o.item, 2 * o.item]


@pytest.mark.parametrize("workers", [1, 2])
def test_local_outcomes_in_order_with_bad_items(workers):
    ticks = []
    out = list(map_items(_jobs.Square(), list(range(40)), workers=workers, batch_size=3,
                         progress=lambda n: ticks.append(n)))
    _check(out, 40)
    assert len(ticks) == 40


def test_local_worker_killed_mid_run_loses_nothing(tmp_path):
    marker = tmp_path / "killed"
    out = list(map_items(_jobs.Square(str(marker), kill_at=21), list(range(60)), workers=2, batch_size=4))
    assert marker.exists()                                                   # a worker really died
    _check(out, 60)


def test_local_item_that_kills_every_worker_ends_as_its_error():
    out = list(map_items(_jobs.KillsEveryWorker(5), list(range(12)), workers=2, batch_size=4))
    assert [o.index for o in out] == list(range(12))
    assert [o.value for o in out if o.ok] == [i * i for i in range(12) if i != 5]
    assert "WorkerDied" in out[5].error


def test_an_item_running_beside_a_killer_is_not_counted_as_one():
    """The pool dies with every batch in it; the slow item beside the killer must not be charged for it (it
    used to reach MAX_ATTEMPTS too, co-scheduled with the killer on each new pool, and end as WorkerDied)."""
    out = list(map_items(_jobs.KillsBesideASlowItem(poison=1, slow=0, seconds=1.0), [0, 1, 2], workers=2,
                         batch_size=1))
    assert [o.ok for o in out] == [True, False, True] and out[0].value == 0 and out[2].value == 4
    assert "WorkerDied" in out[1].error


@pytest.mark.parametrize("workers", [1, 2])
def test_a_bug_is_not_swallowed(workers):
    with pytest.raises(KeyError):
        list(map_items(_jobs.Buggy(), [0, 1, 2, 3], workers=workers, batch_size=1))


def test_bad_arguments():
    with pytest.raises(ParameterError, match="JSON"):
        list(map_items(_jobs.Square(), [object()], workers=1))
    with pytest.raises(ParameterError, match="workers"):
        list(map_items(_jobs.Square(), [1], workers=-1))
    with pytest.raises(ParameterError, match="cluster"):
        list(map_items(_jobs.Square(), [1], cluster="nowhere"))
    assert list(map_items(_jobs.Square(), [], workers=2)) == []


def test_cluster_resolution(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert resolve_cluster(None) is None and backend_name(None) == "local"
    assert resolve_cluster("auto") == "auto" and backend_name("auto") == "ray"
    assert resolve_cluster("ray://head:10001") == "ray://head:10001"
    assert resolve_cluster("10.0.0.5:6379") == "10.0.0.5:6379"
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    assert resolve_cluster(None) == "10.0.0.5:6379"                        # the environment selects Ray
    assert resolve_cluster("local") is None                                # ... unless told otherwise
    for bad in ("host", "host:port", ":80"):
        with pytest.raises(ParameterError):
            resolve_cluster(bad)


def _files(folder: Path, n: int) -> list[Path]:
    folder.mkdir()
    paths = []
    for i in range(n):
        p = folder / f"f{i:03d}.bin"
        p.write_bytes(np.random.default_rng(i).bytes(40 + i))
        paths.append(p)
    (folder / "empty.bin").write_bytes(b"")
    return paths + [folder / "empty.bin"]


def test_ingest_on_a_pool_with_a_killed_worker_and_resume(tmp_path, catalog_rows):
    files = _files(tmp_path / "media", 30)
    with Catalog(tmp_path / "one") as cat:
        rep = cat.ingest(files, _jobs.Describe(), workers=1)
    with Catalog(tmp_path / "pool") as cat:
        rep2 = cat.ingest(files, _jobs.Describe(str(tmp_path / "marker"), kill_name="f017.bin"), workers=2)
        assert (tmp_path / "marker").exists()
        assert (len(rep2.added), len(rep2.failed)) == (len(rep.added), len(rep.failed)) == (30, 1)
        assert cat.verify()["spaces"]["bytes"] == {"sqlite": 30, "faiss": 30}
        again = cat.ingest(files, _jobs.Describe(), workers=2)               # resumed/re-run: nothing new
        assert (len(again.added), len(again.skipped)) == (0, 30)
    assert catalog_rows(tmp_path / "one") == catalog_rows(tmp_path / "pool")


# ------------------------------------------------------------------------------------------- on Ray
def test_ray_gives_the_local_results(ray_local):
    _check(list(map_items(_jobs.Square(), list(range(40)), cluster="auto", batch_size=3)), 40)


def test_ray_worker_killed_mid_run_loses_nothing(ray_local, tmp_path):
    marker = tmp_path / "killed"
    out = list(map_items(_jobs.Square(str(marker), kill_at=21), list(range(60)), cluster="auto", workers=2,
                         batch_size=4))
    assert marker.exists()
    _check(out, 60)


def test_ray_ingest_same_rows_as_local_with_a_killed_worker(ray_local, tmp_path, catalog_rows):
    files = _files(tmp_path / "media", 30)
    with Catalog(tmp_path / "local") as cat:
        cat.ingest(files, _jobs.Describe(), workers=2)
    with Catalog(tmp_path / "ray") as cat:
        rep = cat.ingest(files, _jobs.Describe(str(tmp_path / "marker"), kill_name="f011.bin"), cluster="auto")
        assert (tmp_path / "marker").exists() and (len(rep.added), len(rep.failed)) == (30, 1)
    assert catalog_rows(tmp_path / "local") == catalog_rows(tmp_path / "ray")


def test_ray_bug_is_not_swallowed(ray_local):
    with pytest.raises(BatchJobError, match="KeyError: 'a bug'"):
        list(map_items(_jobs.Buggy(), [0, 1, 2, 3], cluster="auto", batch_size=1))


def test_ray_plan_gpus_cpus_and_caps():
    from latentstudio.catalog.batch import ray_plan

    class GpuJob:
        uses_gpu = True

    class CpuJob:
        pass

    assert ray_plan(GpuJob(), {"CPU": 64.0, "GPU": 4.0}, workers=0, n_items=10_000) == (4, True)
    assert ray_plan(GpuJob(), {"CPU": 64.0, "GPU": 4.0}, workers=2, n_items=10_000) == (2, True)
    assert ray_plan(GpuJob(), {"CPU": 8.0}, workers=0, n_items=10_000) == (8, False)      # no GPU: CPU actors
    assert ray_plan(CpuJob(), {"CPU": 64.0, "GPU": 4.0}, workers=0, n_items=10_000) == (64, False)
    assert ray_plan(CpuJob(), {"CPU": 2.0}, workers=8, n_items=100) == (2, False)          # never more than the CPUs
    assert ray_plan(CpuJob(), {"CPU": 64.0}, workers=0, n_items=3) == (3, False)           # nor than the items
