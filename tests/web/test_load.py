"""Load on loopback: 50 concurrent light requests against a real uvicorn server, 0 errors, while a heavy job
(a dream) runs on the worker; then the job is cancelled over HTTP."""

import importlib.util
import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")
from latentstudio.web.app import create_app  # noqa: E402

_spec = importlib.util.spec_from_file_location("_studio", Path(__file__).with_name("_studio.py"))
S = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(S)


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.read()


def _post(url: str, fields: dict) -> dict:
    body = "&".join(f"{k}={v}" for k, v in fields.items()).encode()
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def test_fifty_concurrent_light_requests_while_a_heavy_job_runs(tmp_path):
    nets = S._load(S.TESTS / "optvis" / "_nets.py", "_nets")
    app = create_app(tmp_path / "data", dream_model=nets.tiny_net(0), dream_layer="6", dream_max_side=256)
    S.slow_steps(app.state.studio, 0.01)          # 400 steps: the dream outlasts the burst on any machine
    with S.Server(app) as srv:
        job = _post(f"{srv.url}/api/dream", {"sample": "astronaut", "octaves": "8", "steps": "50"})["job"]
        status = f"{srv.url}/api/jobs/{job['id']}"
        t0 = time.monotonic()
        while json.loads(_get(status)[1])["status"] != "running":
            assert time.monotonic() - t0 < 30
            time.sleep(0.02)
        paths = ["/api/health", "/api/jobs", f"/api/jobs/{job['id']}", "/api/gallery", "/api/samples", "/",
                 "/dj", "/static/studio.js", "/api/beatbox/session", "/api/dj/state"]
        urls = [srv.url + paths[i % len(paths)] for i in range(50)]
        t1 = time.monotonic()
        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(lambda u: _safe(u), urls))
        burst = time.monotonic() - t1
        errors = [(u, r) for u, r in zip(urls, results) if r != 200]
        assert not errors, errors
        during = json.loads(_get(status)[1])
        assert during["status"] == "running", "the heavy job ended before the burst did: make it longer"
        assert burst < 30
        _post(f"{srv.url}/api/jobs/{job['id']}/cancel", {})
        t2 = time.monotonic()
        while json.loads(_get(status)[1])["status"] == "running":
            assert time.monotonic() - t2 < 30
            time.sleep(0.05)
        assert json.loads(_get(status)[1])["status"] == "cancelled"


def _safe(url: str):
    try:
        return _get(url)[0]
    except Exception as exc:       # an error is a result here, counted by the test
        return repr(exc)
