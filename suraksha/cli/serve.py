"""``suraksha serve``: the web service (HTTP API, HMA-compatible routes, health and metrics)."""

from __future__ import annotations

import typer

from suraksha.access import users
from suraksha.access.services import has_active_api_key
from suraksha.cli.common import fail, platform


def serve_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(
        1,
        min=0,
        max=16,
        help="Job workers inside this process (items, deliveries). 0 on PostgreSQL deployments that run "
        "`suraksha worker` processes instead.",
    ),
) -> None:
    """Run the web service (and, by default, a job worker: the one-process SQLite deployment) until
    interrupted. Every endpoint but /healthz and /readyz needs an API key (the console under /console
    a signed-in user), so it refuses to start before either exists."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from suraksha.web.app import create_app  # noqa: PLC0415 - nor the web framework
    from suraksha.web.server import http_protocol  # noqa: PLC0415

    with platform() as p:
        with p.db.session() as session:
            if not has_active_api_key(session) and not users.list_users(session):
                raise fail(
                    "no API key and no console user exist yet, and every endpoint needs one: create "
                    "one first with `suraksha apikey create NAME --role admin` (it is printed once; "
                    "keep it) or `suraksha user create EMAIL --role admin` (for the console)"
                )
        if p.settings.vault_kek is None:
            raise fail(
                "SURAKSHA_VAULT_KEK is not set: uploaded media is sealed at rest under the vault's key, so "
                "without one no item with media could be taken. Make one with `suraksha vault keygen`, keep "
                "it in your secret store (not beside the database or its backups) and set SURAKSHA_VAULT_KEK"
            )
        app = create_app(p)
        with p.worker_threads(app.state.suraksha.index, workers):
            # Our own access log (RequestObserver) replaces uvicorn's, which would log query strings.
            # Clients that send their headers slowly, or nothing, are cut off (suraksha.web.server).
            uvicorn.run(
                app,
                host=host,
                port=port,
                access_log=False,
                log_config=None,
                server_header=False,
                http=http_protocol(p.settings.web_header_timeout_s),
                timeout_keep_alive=p.settings.web_keep_alive_timeout_s,
            )
