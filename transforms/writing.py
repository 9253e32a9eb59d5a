"""How the pipeline writes a file: under a unique temporary name beside it, then one atomic replace.

Two writers of one path (two periods of a dataset run at once by a backfill) each write their
own temporary file, so neither removes or mixes into the other's; a reader sees the old file or
a complete new one, never a partial one; a failed write leaves nothing behind. ``private``
files and folders are the owner's only (0o600 and 0o700, whatever the umask): the raw and
quarantine zones hold input as the agency sent it, personal data included, and the gate's
reports describe it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
# Temporary files end with this suffix, so a glob of the real files (``*.parquet``) never sees one.
TEMP_SUFFIX = ".tmp"


def temporary_beside(path: Path, private: bool = False) -> Path:
    """A new, empty file of a name no other writer has, in ``path``'s folder: ``.<name>.<random>.tmp``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}{TEMP_SUFFIX}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE if private else 0o666)
        except FileExistsError:
            continue
        try:
            if private:
                os.fchmod(fd, PRIVATE_FILE)  # the umask may only take bits away; this is exact
        finally:
            os.close(fd)
        return tmp


@contextmanager
def replacing(path: Path, private: bool = False) -> Iterator[Path]:
    """Yield a unique temporary path beside ``path``; it replaces ``path`` atomically when the block ends.

    If the block raises, the temporary file is removed and ``path`` stays as it was.
    """
    tmp = temporary_beside(path, private)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str, private: bool = False) -> Path:
    """Write ``text`` as UTF-8 to ``path`` through a unique temporary file."""
    with replacing(path, private) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def private_dir(path: Path, below: Path | None = None) -> Path:
    """``path`` as an owner-only folder (0o700), made if missing.

    The folders between ``below`` and ``path`` are owner-only too (made so, or set so if they
    exist); ``below`` (default: ``path``'s parent) and the folders above it are made as usual.
    """
    below = path.parent if below is None else below
    below.mkdir(parents=True, exist_ok=True)
    depth = len(path.relative_to(below).parts)
    for folder in reversed([path, *path.parents][:depth]):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            pass  # made before, or by a concurrent run in between: set below like ours
        os.chmod(folder, PRIVATE_DIR)
    return path
