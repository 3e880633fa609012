"""``suraksha exchange ...``: hash-list exchanges that keep a bank in sync with a list upstream
(create, list, show, set, enable, disable, delete, fetch-now, status); and ``suraksha hashsharing-sim``, the
local stand-in for NCMEC's hash sharing API."""

from __future__ import annotations

import json
import os
from typing import Any

import typer
from rich.table import Table

from suraksha.cli.common import cli_actor, fail, out, platform, print_json
from suraksha.exchanges.models import ExchangeApi, RunState, Trust

app = typer.Typer(
    help="Hash-list exchanges: keep a bank in sync with NCMEC's hash sharing, a list file, or the sample.",
    no_args_is_help=True,
)

JSON = typer.Option(False, "--json", help="Machine-readable output.")
SIM_CREDENTIALS_ENV = "SURAKSHA_HASHSHARING_SIM_CREDENTIALS"


def _settings(pairs: list[str], raw_json: str | None) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if raw_json:
        try:
            loaded = json.loads(raw_json)
        except ValueError:
            raise fail(f"--settings-json {raw_json[:80]!r} is not JSON") from None
        if not isinstance(loaded, dict):
            raise fail("--settings-json must be a JSON object")
        settings.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise fail(f"--setting {pair!r} is not KEY=VALUE")
        settings[key.strip()] = (
            int(value) if value.strip().isdigit() and key.strip() == "page_size" else value
        )
    return settings


def _summary(view: dict[str, Any]) -> str:
    run = view.get("last_run") or {}
    last = f"{run.get('state')} {run.get('finished_at') or run.get('started_at')}" if run else "never fetched"
    return (
        f"{view['name']}: {view['api']} -> bank {view['bank']} "
        f"({'enabled' if view['enabled'] else 'disabled'}, trust {view['trust']}, {view['entries']} entries, "
        f"credentials {view['credentials']}); last fetch: {last}"
    )


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Short name: lower-case letters, digits, '_' and '-'."),
    api: ExchangeApi = typer.Option(
        ..., "--api", help="ncmec, stopncii, tat, threatexchange, static_sample or file."
    ),
    bank: str = typer.Option(..., "--bank", help="The block bank the list is kept in."),
    trust: Trust = typer.Option(
        Trust.REVIEW, "--trust", help="auto_action or review: what a match on its entries may lead to."
    ),
    setting: list[str] = typer.Option(
        [],
        "--setting",
        help="KEY=VALUE of the API's settings (ncmec: environment, url; file: path, signal_type, "
        "page_size). Repeatable. Never credentials.",
    ),
    settings_json: str = typer.Option(None, "--settings-json", help="The settings as one JSON object."),
    disabled: bool = typer.Option(False, "--disabled", help="Create it disabled (not fetched)."),
    json_out: bool = JSON,
) -> None:
    """Configure an exchange. Credentials (ncmec) come from SURAKSHA_EXCHANGE_<NAME>_CREDENTIALS or the
    exchange_secrets_file, never from here."""
    with platform() as p:
        view = p.exchange_create(
            name,
            api,
            bank,
            settings=_settings(setting, settings_json),
            trust=trust,
            enabled=not disabled,
            actor=cli_actor(),
        )
    if json_out:
        print_json(view)
    else:
        out.print(f"created {_summary(view)}")


@app.command("list")
def list_(json_out: bool = JSON) -> None:
    """Every exchange, with its bank, state and last fetch."""
    with platform() as p:
        views = p.exchanges_list()
    if json_out:
        print_json(views)
        return
    if not views:
        out.print("no exchanges; `suraksha exchange create` configures one")
        return
    table = Table("name", "api", "bank", "enabled", "trust", "entries", "last fetch", "credentials")
    for v in views:
        run: dict[str, Any] = v.get("last_run") or {}  # type: ignore[assignment]
        table.add_row(
            str(v["name"]),
            str(v["api"]),
            str(v["bank"]),
            "yes" if v["enabled"] else "no",
            str(v["trust"]),
            str(v["entries"]),
            f"{run.get('state', '-')} {run.get('finished_at') or ''}".strip(),
            str(v["credentials"]),
        )
    out.print(table)


@app.command("show")
def show(name: str, json_out: bool = JSON) -> None:
    """One exchange: settings, checkpoint, where its credentials come from (never the values), runs."""
    with platform() as p:
        view = p.exchange_show(name)
    if json_out:
        print_json(view)
        return
    out.print(_summary(view))
    out.print(f"settings: {json.dumps(view['settings'])}")
    out.print(f"checkpoint: {json.dumps(view['checkpoint'])}")
    out.print(
        f"next fetch: {view['next_fetch_at'] or 'when a worker next looks'}; "
        f"failures in a row: {view['failures']}"
    )
    if view["last_error"]:
        out.print(f"last error: {view['last_error']}")
    runs: list[dict[str, Any]] = view["runs"]  # type: ignore[assignment]
    if runs:
        table = Table("run", "state", "started", "finished", "pages", "added", "updated", "removed", "error")
        for r in runs:
            table.add_row(
                str(r["id"]),
                str(r["state"]),
                str(r["started_at"]),
                str(r["finished_at"] or ""),
                str(r["pages"]),
                str(r["added"]),
                str(r["updated"]),
                str(r["removed"]),
                str(r["error"])[:80],
            )
        out.print(table)


@app.command("set")
def set_(
    name: str,
    trust: Trust = typer.Option(
        None, "--trust", help="auto_action or review: what a match on its entries may lead to."
    ),
    setting: list[str] = typer.Option(
        [], "--setting", help="KEY=VALUE: set one of the API's settings, keeping the others. Repeatable."
    ),
    settings_json: str = typer.Option(
        None, "--settings-json", help="Replace the settings whole with this JSON object."
    ),
    json_out: bool = JSON,
) -> None:
    """Change an exchange's trust or settings (audited, old and new values). The checkpoint is kept.
    Never credentials: those stay in the environment or the exchange_secrets_file."""
    if trust is None and not setting and settings_json is None:
        raise fail("nothing to change: give --trust, --setting KEY=VALUE or --settings-json")
    with platform() as p:
        settings: dict[str, Any] | None = None
        if setting or settings_json is not None:
            current: dict[str, Any] = {}
            if settings_json is None:
                current = dict(p.exchange_show(name, runs=0)["settings"])
            current.update(_settings(setting, settings_json))
            settings = current
        view = p.exchange_update(name, trust=trust, settings=settings, actor=cli_actor())
    if json_out:
        print_json(view)
    else:
        out.print(f"updated {_summary(view)}")


@app.command("enable")
def enable(name: str) -> None:
    """Fetch it again on schedule (due at once)."""
    with platform() as p:
        p.exchange_set_enabled(name, True, actor=cli_actor())
    out.print(f"enabled exchange {name}")


@app.command("disable")
def disable(name: str) -> None:
    """Stop fetching it; what it put in the bank stays."""
    with platform() as p:
        p.exchange_set_enabled(name, False, actor=cli_actor())
    out.print(f"disabled exchange {name}")


@app.command("delete")
def delete(name: str, yes: bool = typer.Option(False, "--yes", help="Do not ask.")) -> None:
    """Forget the exchange, its records and runs; the entries it put in the bank stay there."""
    if not yes and not typer.confirm(f"delete exchange {name}?"):
        raise typer.Exit(1)
    with platform() as p:
        p.exchange_delete(name, actor=cli_actor())
    out.print(f"deleted exchange {name}")


@app.command("fetch-now")
def fetch_now(name: str, json_out: bool = JSON) -> None:
    """Fetch now, from its checkpoint, within exchange_fetch_budget_s. Exit 2 when the fetch failed."""
    with platform() as p:
        result = p.exchange_fetch(
            name,
            actor=cli_actor(),
            after_page=None if json_out else (lambda n: out.print(f"page {n} committed")),
        )
    if json_out:
        print_json(result.as_dict())
    else:
        out.print(
            f"{name}: {result.state.value}, {result.pages} pages, +{result.added} ~{result.updated} "
            f"-{result.removed}" + (f", {result.rejected} rejected" if result.rejected else "")
        )
        if result.error:
            out.print(f"error: {result.error}")
    if result.state == RunState.FAILED:
        raise typer.Exit(2)


@app.command("status")
def status(json_out: bool = JSON) -> None:
    """Is every exchange fetching? Exit 1 when an enabled one's last fetch failed."""
    with platform() as p:
        views = p.exchanges_list()
    failing = [v for v in views if v["enabled"] and v["failures"]]
    if json_out:
        print_json(
            [
                {
                    k: v[k]
                    for k in (
                        "name",
                        "enabled",
                        "entries",
                        "last_success_at",
                        "next_fetch_at",
                        "failures",
                        "last_error",
                        "last_run",
                        "credentials",
                    )
                }
                for v in views
            ]
        )
    else:
        for v in views:
            state = "FAILING" if v in failing else ("ok" if v["enabled"] else "disabled")
            out.print(f"{state}: {_summary(v)}")
            if v in failing:
                out.print(f"  {v['failures']} failures in a row: {v['last_error']}")
    if failing:
        raise typer.Exit(1)


def hashsharing_sim_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8901, min=1, max=65535),
    seed: int = typer.Option(0, "--seed", min=0, help="Start with this many synthetic entries."),
    page_size: int = typer.Option(1000, "--page-size", min=1, max=10_000, help="Entries per page."),
    page_delay: float = typer.Option(
        0.0, "--page-delay", min=0.0, max=60.0, help="Seconds each entries page waits."
    ),
) -> None:
    """Serve a local stand-in for NCMEC's hash sharing API at http://HOST:PORT (for tests, demos,
    development): /v2/status and /v2/entries as python-threatexchange's client calls them. It accepts
    the user:password in SURAKSHA_HASHSHARING_SIM_CREDENTIALS. Nothing sent to it reaches NCMEC."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from suraksha.exchanges.hashsharing_sim import HashSharingSimulator  # noqa: PLC0415
    from suraksha.web.hashsharing_sim import create_hashsharing_app  # noqa: PLC0415 - nor the web framework

    user, sep, password = os.environ.get(SIM_CREDENTIALS_ENV, "").partition(":")
    if not sep or not user or not password:
        raise fail(
            f"the stand-in needs credentials like the real API: set {SIM_CREDENTIALS_ENV} to user:password"
        )
    simulator = HashSharingSimulator(user, password, page_size=page_size, page_delay_s=page_delay)
    if seed:
        simulator.seed(seed)
    out.print(f"NCMEC hash sharing stand-in on http://{host}:{port} ({len(simulator.entries)} entries)")
    uvicorn.run(
        create_hashsharing_app(simulator), host=host, port=port, log_level="warning", access_log=False
    )


STOPNCII_SIM_CREDENTIALS_ENV = "SURAKSHA_STOPNCII_SIM_CREDENTIALS"
TAT_SIM_CREDENTIALS_ENV = "SURAKSHA_TAT_SIM_CREDENTIALS"


def stopncii_sim_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8902, min=1, max=65535),
    seed: int = typer.Option(0, "--seed", min=0, help="Start with this many synthetic hashes."),
    page_size: int = typer.Option(800, "--page-size", min=1, max=10_000, help="Most records a page holds."),
) -> None:
    """Serve a local stand-in for StopNCII.org's hash API at http://HOST:PORT/v1 (tests, demos,
    development): FetchHashes and SubmitFeedback as python-threatexchange's client calls them. It accepts
    SUBSCRIPTION_KEY:FETCH_KEY,FEEDBACK_KEY from SURAKSHA_STOPNCII_SIM_CREDENTIALS. Nothing sent to it
    reaches StopNCII."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from suraksha.exchanges.stopncii_sim import StopNCIISimulator  # noqa: PLC0415
    from suraksha.web.exchange_sims import create_stopncii_app  # noqa: PLC0415 - nor the web framework

    subscription, _, keys = os.environ.get(STOPNCII_SIM_CREDENTIALS_ENV, "").partition(":")
    fetch_key, _, feedback_key = keys.partition(",")
    if not (subscription and fetch_key and feedback_key):
        raise fail(f"set {STOPNCII_SIM_CREDENTIALS_ENV} to SUBSCRIPTION_KEY:FETCH_KEY,FEEDBACK_KEY")
    simulator = StopNCIISimulator(subscription, fetch_key, feedback_key, page_size=page_size)
    if seed:
        simulator.seed(seed)
    out.print(f"StopNCII stand-in on http://{host}:{port}/v1 ({len(simulator.hashes)} hashes)")
    uvicorn.run(create_stopncii_app(simulator), host=host, port=port, log_level="warning", access_log=False)


def tat_sim_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8903, min=1, max=65535),
    seed: int = typer.Option(0, "--seed", min=0, help="Start with this many synthetic records."),
    page_size: int = typer.Option(100, "--page-size", min=1, max=10_000, help="Records per page."),
) -> None:
    """Serve a local stand-in for Tech Against Terrorism's hash list API at http://HOST:PORT/ (tests,
    demos, development): token-auth/tcap/ and api/hash-list/v2/all as python-threatexchange's client
    calls them. It accepts the user:password in SURAKSHA_TAT_SIM_CREDENTIALS."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from suraksha.exchanges.tat_sim import TATSimulator  # noqa: PLC0415
    from suraksha.web.exchange_sims import create_tat_app  # noqa: PLC0415 - nor the web framework

    user, sep, password = os.environ.get(TAT_SIM_CREDENTIALS_ENV, "").partition(":")
    if not sep or not user or not password:
        raise fail(f"set {TAT_SIM_CREDENTIALS_ENV} to user:password")
    simulator = TATSimulator(user, password, page_size=page_size)
    if seed:
        simulator.seed(seed)
    out.print(f"Tech Against Terrorism stand-in on http://{host}:{port}/ ({len(simulator.listed)} records)")
    uvicorn.run(create_tat_app(simulator), host=host, port=port, log_level="warning", access_log=False)


THREATEXCHANGE_SIM_CREDENTIALS_ENV = "SURAKSHA_THREATEXCHANGE_SIM_CREDENTIALS"


def threatexchange_sim_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8904, min=1, max=65535),
    privacy_group: int = typer.Option(1, "--privacy-group", min=1, help="The privacy group it serves."),
    seed: int = typer.Option(0, "--seed", min=0, help="Start with this many synthetic indicators."),
    page_size: int = typer.Option(100, "--page-size", min=1, max=10_000, help="Most updates a page holds."),
) -> None:
    """Serve a local stand-in for ThreatExchange's /threat_updates at http://HOST:PORT/v26.0 (tests,
    demos, development), as python-threatexchange's client reads it. It accepts the APP_ID:APP_SECRET
    in SURAKSHA_THREATEXCHANGE_SIM_CREDENTIALS."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from suraksha.exchanges.threatexchange_sim import ThreatExchangeSimulator  # noqa: PLC0415
    from suraksha.web.exchange_sims import create_threatexchange_app  # noqa: PLC0415 - nor the web framework

    app_id, sep, secret = os.environ.get(THREATEXCHANGE_SIM_CREDENTIALS_ENV, "").partition(":")
    if not sep or not app_id.isdigit() or not secret:
        raise fail(f"set {THREATEXCHANGE_SIM_CREDENTIALS_ENV} to APP_ID:APP_SECRET (APP_ID a number)")
    simulator = ThreatExchangeSimulator(app_id, secret, privacy_group, page_size=page_size)
    if seed:
        simulator.seed(seed)
    out.print(
        f"ThreatExchange stand-in on http://{host}:{port}/v26.0, privacy group {privacy_group} "
        f"({len(simulator.updates)} indicators)"
    )
    uvicorn.run(
        create_threatexchange_app(simulator), host=host, port=port, log_level="warning", access_log=False
    )
