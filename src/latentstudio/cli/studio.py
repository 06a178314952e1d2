"""CLI: ``latentstudio studio`` - the local web studio (soundscape explorer, beatbox booth, DJ back to back,
dream, perceive, Learning to See, GAN walks, gallery)."""

from __future__ import annotations

from pathlib import Path

import typer

from latentstudio.cli._common import seed_option


def register(app: typer.Typer) -> None:
    """Add ``studio`` to the root app."""

    @app.command("studio")
    def studio_cmd(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (127.0.0.1: this machine "
                                                             "only)."),
        port: int = typer.Option(8765, "--port", help="Port to listen on."),
        data: Path = typer.Option(Path("out/studio"), "--data", help="Data folder: every upload, artefact "
                                                                     "(with its NAME.json provenance) and cache."),
        max_upload_mb: float = typer.Option(20.0, "--max-upload-mb", help="Largest upload accepted, in MB."),
        dj_library: Path = typer.Option(None, "--dj-library", help="Folder of tracks for the DJ page "
                                                                    "(default: a record box rendered offline)."),
        threads: int = typer.Option(1, "--threads", help="Torch CPU threads of the worker."),
        seed: int = seed_option("--seed", "Random seed of every run."),
        allow_host: list[str] = typer.Option(None, "--allow-host", help="Another host name requests may address "
                                             "(repeatable; e.g. the name a reverse proxy forwards as Host)."),
    ) -> None:
        """Serve the studio's pages: the installations as local web pages calling the systems' pipelines.

        Example: latentstudio studio --port 8765 --data out/studio   (then open http://127.0.0.1:8765/)
        """
        from latentstudio.errors import ParameterError

        if not 1 <= port <= 65535:
            raise ParameterError(f"--port {port} must be between 1 and 65535")
        if not 0.01 <= max_upload_mb <= 4096:
            raise ParameterError(f"--max-upload-mb {max_upload_mb} must be between 0.01 and 4096")
        if threads < 1:
            raise ParameterError(f"--threads={threads} must be >= 1")
        if dj_library is not None and not dj_library.is_dir():
            raise ParameterError(f"--dj-library {str(dj_library)!r} is not a folder")
        if data.exists() and not data.is_dir():
            raise ParameterError(f"--data {str(data)!r} is a file, not a folder")
        try:
            import uvicorn

            from latentstudio.web.app import LOOPBACK_HOSTS, create_app
        except ImportError as exc:
            raise ParameterError(f"the studio needs the web extra ({exc.name} is missing): "
                                 "pip install 'latentstudio[web]'") from None
        # on a loopback address the studio answers only requests that name it so (a page that rebinds its
        # own DNS name to 127.0.0.1 is refused); on a network address, by any name the machine has
        local = host.strip("[]").lower() in LOOPBACK_HOSTS
        app_ = create_app(data, max_upload_bytes=int(max_upload_mb * 1024 * 1024), threads=threads, seed=seed,
                          dj_library=dj_library,
                          hosts=(*LOOPBACK_HOSTS, *(allow_host or ())) if local else ("*",))
        typer.echo(f"latentstudio studio on http://{host}:{port}/  (data: {data})", err=True)
        uvicorn.run(app_, host=host, port=port, log_level="warning")
