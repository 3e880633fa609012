"""Where an exchange's credentials come from: the environment, or the secrets file that the
``exchange_secrets_file`` setting names; never the database, never printed or logged.

- ``SURAKSHA_EXCHANGE_<NAME>_CREDENTIALS`` (the exchange's name upper-cased, ``-`` as ``_``), or
- a TOML file of ``name = "user:password"`` lines, readable by its owner only (mode 0600 or tighter):
  a file others can read is refused.

The value is ``user:password`` for NCMEC (python-threatexchange's ``NCMECCredentials`` format) and Tech
Against Terrorism (``TATCredentials``); for StopNCII ``SUBSCRIPTION_KEY:FETCH_KEY`` or
``SUBSCRIPTION_KEY:FETCH_KEY,FEEDBACK_KEY`` (``suraksha.exchanges.stopncii``); for ThreatExchange
``APP_ID:APP_SECRET`` (``suraksha.exchanges.threatexchange``).
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

from suraksha.errors import ConfigError
from suraksha.settings import Secret


def credentials_env_var(name: str) -> str:
    return "SURAKSHA_EXCHANGE_" + re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_CREDENTIALS"


@dataclass(frozen=True)
class Credentials:
    user: str
    password: Secret
    source: str
    """Where they were found (the variable's or the file's name), for status; never the value."""

    def __repr__(self) -> str:
        return f"Credentials(source={self.source!r})"


def _parse(raw: str, source: str) -> Credentials:
    user, sep, password = raw.strip().partition(":")
    if not sep or not user or not password:
        raise ConfigError(f"the credentials in {source} must be 'user:password'")
    return Credentials(user, Secret(password), source)


def find_credentials(name: str, secrets_file: str | None) -> Credentials | None:
    """The exchange's credentials, or None when neither place has them."""
    variable = credentials_env_var(name)
    raw = os.environ.get(variable)
    if raw:
        return _parse(raw, variable)
    if not secrets_file:
        return None
    path = Path(secrets_file).expanduser()
    try:
        mode = path.stat().st_mode
    except OSError:
        raise ConfigError(f"exchange_secrets_file {str(path)!r} cannot be read") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"exchange_secrets_file {str(path)!r} is readable by others: `chmod 600` it (it holds passwords)"
        )
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        raise ConfigError(
            f'exchange_secrets_file {str(path)!r} is not a TOML file of name = "user:password"'
        ) from None
    value = table.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f'exchange_secrets_file {str(path)!r}: {name} must be a string "user:password"')
    return _parse(value, f"{path}:{name}")
