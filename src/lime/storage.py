"""Crash-safe writes and cross-process locks for lime's stored files.

A reader never sees a half-written file: writers go to a temp file in the same directory,
fsync, then rename over the target, all under a lock file so concurrent ``lime`` processes
serialise their read-modify-write cycles.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lime.errors import ConfigError

LOCK_TIMEOUT = 30.0


@contextlib.contextmanager
def locked(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive cross-process lock tied to ``path`` (a sibling ``.lock`` file)."""
    import filelock

    lock_path = path.with_name(path.name + ".lock")
    lock = filelock.FileLock(str(lock_path), timeout=timeout, mode=0o600)
    try:
        with lock:
            yield
    except filelock.Timeout:
        raise ConfigError(f"timed out waiting for the lock on {path}") from None


def atomic_write_text(path: Path, text: str, *, mode: int = 0o600) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def atomic_write_json(path: Path, data: Any, *, mode: int = 0o600) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", mode=mode)
