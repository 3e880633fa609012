"""Data at rest is private whatever the umask: every folder Suraksha makes under the data folder is 0700
and every file 0600 (the SQLite database and its -wal/-shm, media, vault blobs, index generations,
demo files, exported packages, decrypted evidence written by `vault open --out`)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suraksha.access import users
from suraksha.app import Platform
from suraksha.cli.main import app
from suraksha.db import open_database
from suraksha.permissions import Role
from suraksha.settings import Settings

runner = CliRunner()
PASSWORD = "a long enough test passphrase 1"


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin, catch_exceptions=False)
    return result.exit_code, result.output


def not_private(folder: Path) -> list[str]:
    """Every path under ``folder`` (and itself) that is not 0700 (folder) or 0600 (file)."""
    wrong = []
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        want = 0o700 if path.is_dir() else 0o600
        if mode != want:
            wrong.append(f"{oct(mode)} {path.relative_to(folder.parent)}")
    return wrong


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_everything_written_under_the_data_dir_is_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: int
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("SURAKSHA_DATA_DIR", str(data))
    monkeypatch.delenv("SURAKSHA_VAULT_KEK")  # the demo's own keys, as a new user has them
    previous = os.umask(umask)
    try:
        code, output = run("demo", "--no-serve")
        assert code == 0, output
        demo = data  # the demo seeds the empty default data dir (the README's commands reach it)
        for line in (demo / "demo-vault-keys.env").read_text().splitlines():
            name, value = line.split("=", 1)
            monkeypatch.setenv(name, value)
        assert run("index", "publish")[0] == 0
        code, output = run("user", "create", "legal@example.org", "--role", "legal", "--password-stdin",
                           stdin=PASSWORD + "\n")  # fmt: skip
        assert code == 0, output
        code, output = run("vault", "list", "--json")
        preservation = json.loads(output)[0]
        sha256 = preservation["files"][0]["sha256"]
        sign_in = ("--user", "legal@example.org", "--reason", "test", "--password-stdin")
        code, output = run("vault", "open", sha256, "--out", str(demo / "opened" / "file.jpg"), *sign_in,
                           stdin=PASSWORD + "\n")  # fmt: skip
        assert code == 0, output
        package = demo / "exports" / "case.zip"
        code, output = run("vault", "export", "--preservation", str(preservation["id"]),
                           "--out", str(package), *sign_in, stdin=PASSWORD + "\n")  # fmt: skip
        assert code == 0, output
        # The database while a process has it open: its -wal and -shm files exist.
        platform = Platform()
        try:
            with platform.db.session() as session:
                users.create_user(session, "lead@example.org", [Role.LEAD], PASSWORD, by="test")
            assert (demo / "suraksha.sqlite3-wal").exists() and (demo / "suraksha.sqlite3-shm").exists()
            assert not_private(data) == []
        finally:
            platform.close()
    finally:
        os.umask(previous)
    assert (demo / "index" / "CURRENT").exists() and list((demo / "media").rglob("*"))
    assert not_private(data) == []


def test_a_database_and_data_dir_an_older_version_left_readable_are_made_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    database = data / "suraksha.sqlite3"
    open_database(f"sqlite:///{database}").dispose()
    os.chmod(database, 0o644)
    platform = Platform(Settings.load({"data_dir": str(data)}))
    try:
        with platform.db.reading():
            pass
    finally:
        platform.close()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
