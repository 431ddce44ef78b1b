"""What the service writes to disk is its owner's only: folders 0700, files 0600 (development secrets,
the SQLite database, the local bucket's recordings). Explicit modes rather than a umask, so the rule holds
however the process was started (the CLI, uvicorn's factory, tests)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> None:
    """Create `path` and its missing parents, owner-only; folders that already exist are left alone."""
    missing: list[Path] = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # created meanwhile by another process
            folder.mkdir(mode=DIR_MODE)


def write_private(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write `path` whole as an owner-only file; `exclusive` raises FileExistsError if it exists."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    descriptor = os.open(path, flags, FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(descriptor, FILE_MODE)  # a file that already existed keeps no wider mode
        file.write(data)
