"""What every command shares: the platform, output (human or --json), and turning errors into exits."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from suraksha.app import Platform
from suraksha.content.lookup import ACCOUNT_FORMS, ITEM_FORMS, find_account, find_item
from suraksha.errors import SurakshaError
from suraksha.media.errors import MediaError

EXIT_OK = 0
EXIT_MATCH = 1
EXIT_ERROR = 2
# scan and match: the two facts are bits, so neither hides the other (3: matches AND unchecked files)
EXIT_UNCHECKED = 2
EXIT_MATCH_AND_UNCHECKED = EXIT_MATCH | EXIT_UNCHECKED


def scan_exit_code(*, matched: bool, unchecked: bool) -> int:
    """0: every file fully checked, no match. 1: a match, every file fully checked. 2: some file not
    fully checked (not decoded, broke a limit, timed out, or too flat for PDQ: its digests were still
    matched), no match. 3: a match and some file not fully checked. Never 0 while anything went
    unchecked: an unchecked file is never reported as clean."""
    return (EXIT_MATCH if matched else 0) | (EXIT_UNCHECKED if unchecked else 0)


out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def platform() -> Iterator[Platform]:
    """A Platform for one command; domain errors become a clear message and exit code 2."""
    try:
        instance = Platform()
    except SurakshaError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_ERROR) from None
    try:
        yield instance
    except (SurakshaError, MediaError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_ERROR) from None
    finally:
        instance.close()


def cli_actor() -> str:
    """How the audit log names a change made on the command line without a sign-in: the operating
    system's user (grave commands sign a console user in instead: suraksha/cli/identity.py)."""
    return f"cli:{getpass.getuser()}"


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=str, sort_keys=False) + "\n")
    sys.stdout.flush()


def fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(EXIT_ERROR)


ACCOUNT_HELP = f"The account: {ACCOUNT_FORMS} (e.g. @handle, or #12 for Suraksha's own id)."
ITEM_HELP = f"The item: {ITEM_FORMS} (e.g. the platform's post id, or #12 for Suraksha's own id)."


def account_id(p: Platform, session: Session, ref: str) -> int:
    """Our id of the account a person named (``suraksha.content.lookup``: platform id, @handle,
    profile URL or ``#id``)."""
    return find_account(session, ref, p.url_patterns).id


def item_id(p: Platform, session: Session, ref: str) -> int:
    """Our id of the item a person named (platform id, post URL or ``#id``)."""
    return find_item(session, ref, p.url_patterns).id
