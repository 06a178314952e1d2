"""latentstudio's local web studio: the installations as pages on 127.0.0.1 (``latentstudio studio``).

* :mod:`.app` — :func:`create_app`: pages, JSON API, job progress over SSE, upload and path limits
  (the only module that imports FastAPI);
* :mod:`.studio` — :class:`~.studio.Studio`: each page's run, calling the systems' pipeline APIs and
  writing artefacts with provenance sidecars; :class:`~.studio.StudioSettings`;
* :mod:`.jobs` — :class:`~.jobs.JobQueue`: one worker thread, progress, cancellation;
* :mod:`.files` — the data folder: paths that stay inside it, upload checks, the gallery;
* ``static/`` — the pages (plain HTML and vanilla JavaScript, nothing fetched from the internet).

A new system adds a ``run_*`` method to the studio, a route in :func:`create_app` and a page in ``static/``.

Example
-------
>>> from latentstudio.web import create_app                 # doctest: +SKIP
>>> app = create_app("out/studio", max_upload_bytes=10_000_000)  # doctest: +SKIP
"""

from __future__ import annotations


def create_app(*args, **kwargs):
    """:func:`latentstudio.web.app.create_app` (imported on first use: FastAPI is the ``web`` extra)."""
    from latentstudio.web.app import create_app as _create

    return _create(*args, **kwargs)


__all__ = ["create_app"]
