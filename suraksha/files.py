"""Files and folders Suraksha writes: private to the account the service runs as, whatever the umask.

The data folder holds the database (password hashes, second-factor secrets, personal data), media
kept for review and the evidence vault: every folder Suraksha makes is 0700 and every file 0600,
set explicitly rather than left to the umask (a default umask of 022 made them world-readable).
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Make ``path`` and any missing parents as private folders (0700); folders that already exist
    are left as they are (a parent such as a home folder is not ours to change)."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it first
            folder.mkdir(mode=PRIVATE_DIR)
            os.chmod(folder, PRIVATE_DIR)  # mkdir's mode passes through the umask
    return path


def tighten(path: str | os.PathLike[str]) -> None:
    """Make an existing file 0600 (a folder 0700), e.g. one an older version wrote under the umask.
    One this account does not own is left as it is, with a warning (the operator set it up so)."""
    try:
        mode = PRIVATE_DIR if stat.S_ISDIR(os.stat(path).st_mode) else PRIVATE_FILE
        os.chmod(path, mode)
    except FileNotFoundError:
        pass
    except PermissionError:
        log.warning("event=files.not_private path=%s fix='make it 0600 (folder 0700) as its owner'", path)


def create_private(path: str | os.PathLike[str], *, exclusive: bool = True) -> BinaryIO:
    """Open a new file for writing, mode 0600 from its first byte (never readable by others, not even
    for a moment). ``exclusive``: refuse to replace an existing file (FileExistsError)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)  # an existing file (exclusive=False) keeps its mode otherwise
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def write_private(path: str | os.PathLike[str], data: bytes, *, exclusive: bool = False) -> None:
    """Write ``data`` to a private (0600) file, making its folder private when missing."""
    private_dir(Path(path).parent)
    with create_private(path, exclusive=exclusive) as f:
        f.write(data)
