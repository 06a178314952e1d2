"""The studio's web face: :func:`create_app` builds the FastAPI app (pages, JSON API, SSE job progress).

Routes
------
Pages (plain HTML + ``/static/studio.js``): ``/`` ``/soundscape`` ``/beatbox`` ``/dj`` ``/dream`` ``/perceive``
``/seeing`` ``/gan`` ``/latent`` ``/funk`` ``/gallery``.

API (JSON; errors are ``{"error": message}`` with a 4xx status):

* ``GET /api/health``, ``GET /api/samples``, ``GET /api/samples/{name}`` (an offline sample picture)
* ``POST /api/soundscape`` (``file`` | ``sample`` | ``source``, ``top``, ``seconds``, ``headings``) -> 202 job
* ``GET /api/beatbox/session``, ``POST /api/beatbox/turn`` (``file``: WAV/FLAC/Ogg) -> 202 job,
  ``POST /api/beatbox/reset``
* ``GET /api/dj/state``, ``POST /api/dj/library`` -> 202 job, ``POST /api/dj/pick`` (``track``) -> 202 job,
  ``POST /api/dj/reset``
* ``POST /api/dream`` (``file`` | ``sample`` | ``source``, ``layer``, ``octaves``, ``steps``, ``strongest``)
  -> 202 job; ``POST /api/perceive`` (``target``, ``strokes``, ``budget``) -> 202 job
* ``GET /api/seeing/models``; ``POST /api/seeing`` (``file`` | ``sample`` | ``source``, ``models`` (repeated or
  comma-separated), ``pre``, ``size``, ``side_by_side``) -> 202 job
* ``GET /api/gan/info``; ``POST /api/gan`` (``mode`` walk | loop | grid, ``seed``, ``keys``, ``seconds``, ``fps``,
  ``size``, ``n``, ``truncation``, ``condition``, ``music`` (a track: a beat walk), ``beats_per_key``,
  ``accent``) -> 202 job
* ``GET /api/latent/info``; ``POST /api/latent`` (``source``, ``steps``, ``seed``, ``film``, ``seconds``, ``music``)
  -> 202 job
* ``GET /api/funk/info``; ``POST /api/funk`` (``mode`` dream | reimagine, ``drum``, ``n``, ``temperature``, ``listen``;
  ``file`` (a one-shot), ``variations``, ``noise``; ``seed``) -> 202 job
* ``GET /api/jobs``, ``GET /api/jobs/{id}``, ``GET /api/jobs/{id}/events`` (``text/event-stream``),
  ``POST /api/jobs/{id}/cancel`` (also ``DELETE /api/jobs/{id}``)
* ``GET /api/gallery``; ``GET /files/{path}``: a file of the data folder (never outside it)

Limits: request bodies over the upload limit get 413 before they are read; uploads are typed by their
content (415 otherwise) and pictures over :data:`MAX_PIXELS` get 413 before they are decoded; paths are
resolved and must stay inside the data folder (``../`` and absolute paths get 400); heavy work runs one job
at a time on one worker thread, at most :data:`MAX_PENDING` waiting or running (429 beyond).

Other web pages cannot drive the studio (:class:`LocalOnly`): a request must name the studio's own host
(by default 127.0.0.1, localhost or ::1: a rebound DNS name gets 421), and a request that changes
anything (not GET) is refused with 403 when the browser says it comes from another origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from latentstudio import __version__
from latentstudio.errors import LatentStudioError
from latentstudio.provenance import _jsonable
from latentstudio.web.files import StudioInputError, check_upload, gallery, inside
from latentstudio.web.jobs import TERMINAL, JobQueue
from latentstudio.web.studio import Studio, StudioSettings, sample_names

STATIC = Path(str(resources.files("latentstudio.web").joinpath("static")))
#: The pages after the front page, with their names in the navigation bar (in its order).
PAGES = {"soundscape": "Soundscape explorer", "beatbox": "Beatbox booth", "dj": "DJ back to back", "dream": "Dream",
         "perceive": "Perceive", "seeing": "Learning to See", "gan": "GAN walks", "latent": "Latent",
         "funk": "NeuralFunk", "gallery": "Gallery"}


#: The pages' titles (the front page's and any that differ from its link in the navigation bar).
TITLES = {**PAGES, "index": "Studio", "latent": "Latent Pulsations and Landscapes"}


def page_html(name: str) -> str:
    """A page's HTML (``index`` or one of :data:`PAGES`): the one head (title, stylesheet, ``studio.js``) and
    navigation bar (the page's own link marked ``here``) around the page's body in ``static/NAME.html``."""
    from html import escape

    links = [("/", "studio", name == "index")] + [(f"/{p}", title, p == name) for p, title in PAGES.items()]
    mark = ' class="here"'
    nav = "".join(f'<a href="{href}"{mark if here else ""}>{escape(title)}</a>' for href, title, here in links)
    body = (STATIC / f"{name}.html").read_text(encoding="utf-8")
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(TITLES[name])} — latentstudio studio</title>\n"
            '<link rel="icon" href="data:,"><link rel="stylesheet" href="/static/studio.css">'
            '<script src="/static/studio.js"></script></head>\n'
            f"<body><nav>{nav}</nav>\n{body}</body></html>\n")


#: Room for the multipart envelope and the form's other fields around an upload of the maximum size.
ENVELOPE = 64 * 1024
#: Bounds of the pages' numeric fields.
LIMITS = {"top": (1, 12), "seconds": (2.0, 60.0), "octaves": (1, 8), "steps": (1, 50), "strongest": (1, 64),
          "strokes": (1, 40), "headings": (1, 8)}
#: Bounds of the Learning to See page's numeric fields.
SEEING_LIMITS = {"size": (32, 1024)}
#: The pre-filters the Learning to See page offers (the API takes any spec of ``core.filters.parse_filters``).
SEEING_FILTERS = ("none", "blur", "canny", "threshold")
#: Bounds of the GAN page's numeric fields: walks stay short (at most GAN_MAX_FRAMES frames).
GAN_LIMITS = {"seed": (0, 2 ** 31 - 1), "keys": (2, 8), "seconds": (0.5, 20.0), "fps": (4.0, 30.0),
              "size": (32, 512), "n": (1, 36), "truncation": (0.0, 2.0), "beats_per_key": (1, 16),
              "accent": (0.0, 2.0)}
GAN_MAX_FRAMES = 300
GAN_MODES = ("walk", "loop", "grid")
#: Bounds of the NeuralFunk page's numeric fields.
FUNK_LIMITS = {"seed": (0, 2 ** 31 - 1), "n": (1, 16), "temperature": (0.0, 2.0), "variations": (1, 8),
               "noise": (0.0, 2.0)}
FUNK_MODES = ("dream", "reimagine")
#: Bounds of the Latent page's numeric fields (a film without music lasts ``seconds``).
LATENT_LIMITS = {"seed": (0, 2 ** 31 - 1), "steps": (50, 3000), "seconds": (2.0, 30.0)}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is answered 413 without reading the rest
    (by its Content-Length when it has one, else as it streams in)."""

    def __init__(self, app, *, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_big = _error(413, f"the request is over the studio's upload limit of {self.limit - ENVELOPE} bytes")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                return await _error(400, "bad Content-Length header")(scope, receive, send)
            if n > self.limit:
                return await too_big(scope, receive, send)
            return await self.app(scope, receive, send)
        # no length given: read the stream up to the limit, then replay it
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                return await too_big(scope, receive, send)
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


#: The host names the studio answers by default (it listens on this machine only unless told otherwise).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
#: Largest picture accepted, in pixels (a small PNG can decode to gigabytes: a decompression bomb).
MAX_PIXELS = 40_000_000
#: Jobs that may wait or run at once; a page asking for more gets 429.
MAX_PENDING = 20


def _hostname(host: str) -> str:
    """The name part of a Host header or an origin's netloc: ``[::1]:8765`` -> ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class LocalOnly:
    """ASGI middleware: the studio answers only requests addressed to one of ``hosts`` (``"*"``: any; a
    DNS-rebinding page addresses its own name: 421), and refuses (403) a request that is not GET, HEAD or
    OPTIONS when its ``Origin`` is another site's (or ``null``) or the browser marks it ``cross-site``: a
    page on the web can make a browser post forms to 127.0.0.1, and this is what stops it queueing jobs,
    cancelling them or resetting a session."""

    def __init__(self, app, *, hosts):
        self.app = app
        self.hosts = frozenset(_hostname(h) for h in hosts)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":              # the studio has no websocket routes
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        host = headers.get("host", "")
        if "*" not in self.hosts and _hostname(host) not in self.hosts:
            return await _error(421, f"the studio answers requests addressed to {', '.join(sorted(self.hosts))}, "
                                     f"not {host!r}")(scope, receive, send)
        if scope.get("method", "GET") not in ("GET", "HEAD", "OPTIONS"):
            from urllib.parse import urlsplit

            origin = headers.get("origin")
            foreign = origin is not None and (origin == "null" or urlsplit(origin).netloc.lower() != host.lower())
            if foreign or headers.get("sec-fetch-site") == "cross-site":
                return await _error(403, "a request from another site is refused: the studio takes changes "
                                         "from its own pages only")(scope, receive, send)
        return await self.app(scope, receive, send)


def _number(name: str, value: Any, cast=int, limits: dict | None = None):
    lo, hi = (limits or LIMITS)[name]
    try:
        v = cast(value)
    except (TypeError, ValueError):
        raise StudioInputError(f"{name}={value!r} must be a number") from None
    if not lo <= v <= hi:
        raise StudioInputError(f"{name}={v} must be between {lo} and {hi}")
    return v


def _flag(name: str, value: str | None) -> bool:
    text = (value or "").strip().lower()
    if text in ("", "0", "false", "off", "no"):
        return False
    if text in ("1", "true", "on", "yes"):
        return True
    raise StudioInputError(f"{name}={value!r} must be true or false")


def create_app(data_dir: str | os.PathLike, *, max_upload_bytes: int = 20 * 1024 * 1024,
               settings: StudioSettings | None = None, hosts=LOOPBACK_HOSTS, **overrides: Any) -> FastAPI:
    """The studio app on the data folder ``data_dir`` (made when missing).

    Parameters
    ----------
    data_dir : where every artefact, upload and cache lives; nothing outside it is served
    max_upload_bytes : largest upload accepted (413 beyond)
    settings : a :class:`~latentstudio.web.studio.StudioSettings` (models, lengths, library ...)
    hosts : the host names requests must address (:class:`LocalOnly`; ``("*",)`` for any, when the studio
        listens on a network address)
    overrides : fields of the settings by name (``dream_model=net``, ``dj_library="tracks/"`` ...)

    Example
    -------
    >>> import uvicorn                                                   # doctest: +SKIP
    >>> uvicorn.run(create_app("out/studio"), host="127.0.0.1", port=8765)  # doctest: +SKIP
    """
    s = settings or StudioSettings()
    for key, value in overrides.items():
        if not hasattr(s, key):
            raise TypeError(f"create_app() got an unknown setting {key!r}")
        setattr(s, key, value)
    s.max_upload_bytes = max_upload_bytes
    studio = Studio(Path(data_dir), s)

    def on_start() -> None:
        import torch

        torch.set_num_threads(s.threads)

    jobs = JobQueue(on_start=on_start)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        jobs.shutdown(timeout=2.0)

    app = FastAPI(title="latentstudio studio", version=__version__, docs_url=None, redoc_url=None,
                  lifespan=lifespan)
    app.state.studio, app.state.jobs = studio, jobs
    app.add_middleware(BodyLimit, limit=max_upload_bytes + ENVELOPE)
    app.add_middleware(LocalOnly, hosts=hosts)            # added last: runs first
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # ------------------------------------------------------------------------------------- errors
    @app.exception_handler(StudioInputError)
    async def _studio_error(request, exc: StudioInputError):
        return _error(exc.status, str(exc))

    @app.exception_handler(LatentStudioError)
    async def _ls_error(request, exc: LatentStudioError):
        return _error(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request, exc: RequestValidationError):
        parts = []
        for e in exc.errors():
            where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path"))
            parts.append(f"{where}: {e.get('msg', 'invalid')}" if where else str(e.get("msg", "invalid")))
        return _error(400, "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request, exc: StarletteHTTPException):
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _crash(request, exc: Exception):
        return _error(500, f"internal error ({type(exc).__name__}); see the studio's log")

    # -------------------------------------------------------------------------------------- pages
    def page(name: str):
        html = page_html(name)

        def serve():
            return HTMLResponse(html)
        return serve

    app.get("/", include_in_schema=False)(page("index"))
    for name in PAGES:
        app.get(f"/{name}", include_in_schema=False)(page(name))

    # -------------------------------------------------------------------------------------- inputs
    def _form_only(request: Request) -> None:
        ctype = request.headers.get("content-type", "")
        if ctype and not ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            raise StudioInputError(f"send a form (multipart/form-data), not {ctype}", status=415)

    def _upload(file: UploadFile, kind: str) -> Path:
        """Keep an upload that is of ``kind`` and decodes; one that does not is answered 4xx and not kept."""
        import tempfile

        name = file.filename or "file"
        data = file.file.read(max_upload_bytes + 1)
        sfx = check_upload(data, kind=kind, max_bytes=max_upload_bytes, name=name)
        with tempfile.TemporaryDirectory(prefix="ls-upload-") as td:
            probe = Path(td) / f"upload{sfx}"
            probe.write_bytes(data)
            _decodable(probe, kind, name)
        return studio.save_upload(data, sfx)

    def _decodable(path: Path, kind: str, name: str) -> None:
        try:
            if kind == "image":
                from PIL import Image

                from latentstudio.core.image import load

                try:
                    with Image.open(path) as im:
                        w, h = im.size
                except Image.DecompressionBombError:        # PIL's own limit, far above ours
                    raise StudioInputError(f"{name}: its pixels are over the studio's limit of {MAX_PIXELS:,}",
                                           status=413) from None
                if w * h > MAX_PIXELS:
                    raise StudioInputError(f"{name}: {w}x{h} pixels is over the studio's limit of {MAX_PIXELS:,}",
                                           status=413)
                load(path)
            else:
                import soundfile as sf

                sf.info(str(path))
        except StudioInputError:
            raise
        except LatentStudioError as exc:
            raise StudioInputError(f"{name}: {exc}") from None
        except Exception as exc:
            raise StudioInputError(f"{name}: cannot be read as {kind} ({type(exc).__name__})") from None

    def _picture(file: UploadFile | None, sample: str | None, source: str | None) -> tuple[Path, str]:
        """(path, label) of the picture a form names: an upload, a sample picture or a data-folder file."""
        if file is not None and file.filename:
            return _upload(file, "image"), Path(file.filename).stem or "upload"
        if sample:
            from latentstudio import assets

            if sample not in assets.SAMPLE_IMAGES:
                raise StudioInputError(f"sample={sample!r} is not an offline sample picture")
            return assets.sample_image(sample), sample
        if source:
            path = inside(studio.root, source)
            if not path.suffix.lower() in (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"):
                raise StudioInputError(f"source={source!r} is not a picture", status=415)
            _decodable(path, "image", source)
            return path, path.stem
        raise StudioInputError("send a picture: an image file, a sample name or a source path in the data folder")

    def _queued(kind: str, fn) -> JSONResponse:
        if jobs.pending() >= MAX_PENDING:
            raise StudioInputError(f"{MAX_PENDING} jobs are already waiting or running: wait for some to finish "
                                   f"or cancel them", status=429)
        job = jobs.submit(kind, fn)
        return JSONResponse({"job": _jsonable(job.to_dict())}, status_code=202)

    # ----------------------------------------------------------------------------------- light API
    @app.get("/api/health")
    def health():
        return {"ok": True, "version": __version__, "busy": jobs.busy(), "data": str(studio.root),
                "max_upload_bytes": max_upload_bytes}

    @app.get("/api/samples")
    def samples():
        return {"samples": sample_names()}

    @app.get("/api/samples/{name}")
    def sample_file(name: str):
        from latentstudio import assets

        if name not in assets.SAMPLE_IMAGES:
            raise StudioInputError(f"no sample picture {name!r}", status=404)
        return FileResponse(assets.sample_image(name))

    @app.get("/api/gallery")
    def gallery_items():
        return {"items": gallery(studio.root)}

    @app.get("/files/{path:path}")
    def data_file(path: str):
        return FileResponse(inside(studio.root, path))

    # ----------------------------------------------------------------------------------------- jobs
    @app.get("/api/jobs")
    def job_list():
        return {"jobs": [_jsonable(j.to_dict()) for j in jobs.jobs()]}

    def _job(job_id: str):
        job = jobs.get(job_id)
        if job is None:
            raise StudioInputError(f"no job {job_id!r}", status=404)
        return job

    @app.get("/api/jobs/{job_id}")
    def job_status(job_id: str):
        return _jsonable(_job(job_id).to_dict())

    @app.post("/api/jobs/{job_id}/cancel")
    @app.delete("/api/jobs/{job_id}")
    def job_cancel(job_id: str):
        _job(job_id)
        return _jsonable(jobs.cancel(job_id).to_dict())

    @app.get("/api/jobs/{job_id}/events")
    async def job_events(job_id: str, request: Request):
        _job(job_id)

        async def stream():
            last, idle = -1, 0.0
            while True:
                job = jobs.get(job_id)
                if job is None:
                    yield f"event: error\ndata: {json.dumps({'error': 'job forgotten'})}\n\n"
                    return
                if job.version != last:
                    last, idle = job.version, 0.0
                    kind = "end" if job.status in TERMINAL else "progress"
                    yield f"id: {job.version}\nevent: {kind}\ndata: {json.dumps(_jsonable(job.to_dict()))}\n\n"
                    if kind == "end":
                        return
                elif idle >= 10.0:
                    idle = 0.0
                    yield ": keep-alive\n\n"
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.1)
                idle += 0.1

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    # ----------------------------------------------------------------------------------- soundscape
    @app.post("/api/soundscape", status_code=202)
    def soundscape(request: Request, file: UploadFile | None = File(None), sample: str | None = Form(None),
                   source: str | None = Form(None), top: str = Form("5"), seconds: str = Form("12"),
                   headings: str = Form("auto")):
        _form_only(request)
        n, secs = _number("top", top), _number("seconds", seconds, float)
        heads = None if headings.strip() in ("", "auto") else _number("headings", headings)
        path, label = _picture(file, sample, source)
        return _queued("soundscape", lambda progress: studio.run_soundscape(
            path, label=label, top=n, seconds=secs, headings=heads, progress=progress))

    # -------------------------------------------------------------------------------------- beatbox
    @app.get("/api/beatbox/session")
    def beatbox_session():
        return studio.session_info()

    @app.post("/api/beatbox/reset")
    def beatbox_reset():
        studio.new_session()
        return studio.session_info()

    @app.post("/api/beatbox/turn", status_code=202)
    def beatbox_turn(request: Request, file: UploadFile | None = File(None)):
        _form_only(request)
        if file is None or not file.filename:
            raise StudioInputError("send a recording: a WAV, FLAC or Ogg file in the field 'file'")
        path = _upload(file, "audio")
        return _queued("beatbox", lambda progress: studio.run_beatbox_turn(path, progress=progress))

    # ------------------------------------------------------------------------------------------- dj
    @app.get("/api/dj/state")
    def dj_state():
        return _jsonable(studio.dj_state())

    library_job: dict[str, str] = {}
    library_lock = threading.Lock()

    @app.post("/api/dj/library", status_code=202)
    def dj_library():
        """Analyse the record box; while an analysis waits or runs, that job is answered (no second one)."""
        with library_lock:
            pending = jobs.get(library_job.get("id", ""))
            if pending is not None and pending.status not in TERMINAL:
                return JSONResponse({"job": _jsonable(pending.to_dict())}, status_code=202)
            job = jobs.submit("dj library", lambda progress: studio.run_dj_library(progress=progress))
            library_job["id"] = job.id
        return JSONResponse({"job": _jsonable(job.to_dict())}, status_code=202)

    @app.post("/api/dj/reset")
    def dj_reset():
        return _jsonable(studio.new_dj_set())

    @app.post("/api/dj/pick", status_code=202)
    def dj_pick(request: Request, track: str = Form(...)):
        _form_only(request)
        studio.check_dj_pick(track)
        return _queued("dj pick", lambda progress: studio.run_dj_pick(track, progress=progress))

    # ---------------------------------------------------------------------------------------- dream
    @app.post("/api/dream", status_code=202)
    def dream(request: Request, file: UploadFile | None = File(None), sample: str | None = Form(None),
              source: str | None = Form(None), layer: str = Form(""), octaves: str = Form("3"),
              steps: str = Form("6"), strongest: str = Form("")):
        _form_only(request)
        n_oct, n_steps = _number("octaves", octaves), _number("steps", steps)
        strong = _number("strongest", strongest) if strongest.strip() else None
        lay = layer.strip() or s.dream_layer
        path, label = _picture(file, sample, source)
        return _queued("dream", lambda progress: studio.run_dream(path, label=label, layer=lay, octaves=n_oct,
                                                                  steps=n_steps, strongest=strong,
                                                                  progress=progress))

    # ------------------------------------------------------------------------------------- perceive
    @app.post("/api/perceive", status_code=202)
    def perceive(request: Request, target: str = Form(...), strokes: str = Form("10"),
                 budget: str = Form("small")):
        _form_only(request)
        n = _number("strokes", strokes)
        if budget not in s.perceive_budgets:
            raise StudioInputError(f"budget={budget!r} must be one of {', '.join(s.perceive_budgets)}")
        tgt = studio.check_perceive(target)
        return _queued("perceive", lambda progress: studio.run_perceive(tgt, strokes=n, budget=budget,
                                                                        progress=progress))

    # --------------------------------------------------------------------------------------- seeing
    @app.get("/api/seeing/models")
    def seeing_models():
        return {"models": list(studio.seeing_models()), "filters": list(SEEING_FILTERS),
                "size": list(SEEING_LIMITS["size"])}

    @app.post("/api/seeing", status_code=202)
    def seeing(request: Request, file: UploadFile | None = File(None), sample: str | None = Form(None),
               source: str | None = Form(None), models: list[str] | None = Form(None), pre: str = Form("none"),
               size: str = Form("256"), side_by_side: str = Form("")):
        _form_only(request)
        names, spec = studio.check_seeing([m for v in models or [] for m in v.split(",")], pre)
        n = _number("size", size, limits=SEEING_LIMITS)
        both = _flag("side_by_side", side_by_side)
        path, label = _picture(file, sample, source)
        return _queued("seeing", lambda progress: studio.run_seeing(path, label=label, models=names, pre=spec,
                                                                    size=n, side_by_side=both, progress=progress))

    # ------------------------------------------------------------------------------------------ gan
    @app.get("/api/gan/info")
    def gan_info():
        return {**studio.gan_info(), "modes": list(GAN_MODES), "max_frames": GAN_MAX_FRAMES,
                "limits": {k: list(v) for k, v in GAN_LIMITS.items()}}

    @app.post("/api/gan", status_code=202)
    def gan(request: Request, music: UploadFile | None = File(None), mode: str = Form("walk"),
            seed: str = Form("0"), keys: str = Form("4"), seconds: str = Form("4"), fps: str = Form("12"),
            size: str = Form("128"), n: str = Form("9"), truncation: str = Form("1"), condition: str = Form(""),
            beats_per_key: str = Form("4"), accent: str = Form("0.3")):
        _form_only(request)
        if mode not in GAN_MODES:
            raise StudioInputError(f"mode={mode!r} must be one of {', '.join(GAN_MODES)}")

        def num(name, value, cast=int):
            return _number(name, value, cast, limits=GAN_LIMITS)

        args = dict(mode=mode, seed=num("seed", seed), keys=num("keys", keys), seconds=num("seconds", seconds, float),
                    fps=num("fps", fps, float), size=num("size", size), n=num("n", n),
                    truncation=num("truncation", truncation, float), beats_per_key=num("beats_per_key", beats_per_key),
                    accent=num("accent", accent, float))
        if mode != "grid" and args["seconds"] * args["fps"] > GAN_MAX_FRAMES:
            raise StudioInputError(f"seconds={args['seconds']:g} at fps={args['fps']:g} is "
                                   f"{round(args['seconds'] * args['fps'])} frames, over the studio's "
                                   f"{GAN_MAX_FRAMES}: shorten the walk or lower the frame rate")
        args["condition"] = studio.check_gan_condition(condition)
        track = label = None
        if music is not None and music.filename:
            if mode == "grid":
                raise StudioInputError("music: a sample grid takes no track; choose mode walk or loop for a beat walk")
            track, label = _upload(music, "audio"), music.filename
        return _queued(f"gan {mode}", lambda progress: studio.run_gan(**args, music=track, music_label=label,
                                                                     progress=progress))

    # ------------------------------------------------------------------------------------------ latent
    @app.get("/api/latent/info")
    def latent_info():
        from latentstudio.latent.data import SOURCES

        return {"sources": list(SOURCES), "models": studio.latent_models(),
                "limits": {k: list(v) for k, v in LATENT_LIMITS.items()}}

    @app.post("/api/latent", status_code=202)
    def latent(request: Request, music: UploadFile | None = File(None), source: str = Form("fortunes"),
               steps: str = Form("500"), seed: str = Form("0"), film: str = Form("true"), seconds: str = Form("8")):
        from latentstudio.latent.data import SOURCES

        _form_only(request)
        if source not in SOURCES:
            raise StudioInputError(f"source={source!r} must be one of {', '.join(SOURCES)}")

        def num(name, value, cast=int):
            return _number(name, value, cast, limits=LATENT_LIMITS)

        args = dict(source=source, steps=num("steps", steps), seed=num("seed", seed), film=_flag("film", film),
                    seconds=num("seconds", seconds, float))
        track = label = None
        if music is not None and music.filename:
            if not args["film"]:
                raise StudioInputError("music: only a film pulses to a track; ask for the film too")
            track, label = _upload(music, "audio"), music.filename
        return _queued("latent", lambda progress: studio.run_latent(**args, music=track, music_label=label,
                                                                   progress=progress))

    # ------------------------------------------------------------------------------------------ funk
    @app.get("/api/funk/info")
    def funk_info():
        return {**studio.funk_info(), "modes": list(FUNK_MODES), "limits": {k: list(v) for k, v in FUNK_LIMITS.items()}}

    @app.post("/api/funk", status_code=202)
    def funk(request: Request, file: UploadFile | None = File(None), mode: str = Form("dream"), drum: str = Form(""),
             n: str = Form("8"), temperature: str = Form("0.7"), listen: str = Form("true"), variations: str = Form("4"),
             noise: str = Form("0.3"), seed: str = Form("0")):
        _form_only(request)
        if mode not in FUNK_MODES:
            raise StudioInputError(f"mode={mode!r} must be one of {', '.join(FUNK_MODES)}")
        classes = studio.funk_info()["classes"]
        kind = drum.strip()
        if kind not in ("", "all") and kind not in classes:
            raise StudioInputError(f"drum={kind!r} must be one of {', '.join(classes)} (or all)")

        def num(name, value, cast=int):
            return _number(name, value, cast, limits=FUNK_LIMITS)

        args = dict(mode=mode, drum=kind if kind not in ("", "all") else None, n=num("n", n),
                    temperature=num("temperature", temperature, float), listen=_flag("listen", listen),
                    variations=num("variations", variations), noise=num("noise", noise, float), seed=num("seed", seed))
        sound = label = None
        if mode == "reimagine":
            if file is None or not file.filename:
                raise StudioInputError("reimagine: send a sound file (a one-shot: kick, snare, any hit)")
            sound, label = _upload(file, "audio"), file.filename
        elif file is not None and file.filename:
            raise StudioInputError("file: a dream takes no sound; choose mode reimagine to re-make yours")
        return _queued(f"funk {mode}", lambda progress: studio.run_funk(**args, sound=sound, sound_label=label,
                                                                       progress=progress))

    return app


