"""Crash-safe writes and cross-process locks for lime's stored files.

A reader never sees a half-written file: writers go to a temp file in the same directory,
fsync, then rename over the target, all under a lock file so concurrent ``lime`` processes
serialise their read-modify-write cycles.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lime.errors import ConfigError

LOCK_TIMEOUT = 30.0


# A config file larger than this is refused: real ones are a few KiB; /dev/zero is not one.
MAX_CONFIG_BYTES = 8 << 20

_REASONS = {errno.ENOSPC: "no space left on the device", errno.EROFS: "the file system is read-only",
            errno.EACCES: "permission denied", errno.EPERM: "permission denied",
            errno.EDQUOT: "disk quota exceeded"}


def write_error(path: Path, exc: OSError) -> ConfigError:
    """One line naming the file and the reason; stored data is untouched (writes are atomic)."""
    reason = _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)
    return ConfigError(f"cannot write {path}: {reason}; nothing was changed")


# Locks this thread holds, by lock file: a nested ``locked`` on the same file is re-entrant
# (a second flock on a new descriptor would wait for the first one forever).
_local = threading.local()


@contextlib.contextmanager
def locked(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive cross-process lock tied to ``path`` (a sibling ``.lock`` file).

    ``fcntl.flock`` directly: the lock library this replaced cost 30-130 ms to import, a fifth of a
    one-shot prompt's budget; the kernel releases the lock when a process dies."""
    import fcntl
    import time

    lock_path = str(path.with_name(path.name + ".lock"))
    _held: dict[str, int] = _local.__dict__.setdefault("held", {})
    if lock_path in _held:
        _held[lock_path] += 1
        try:
            yield
        finally:
            _held[lock_path] -= 1
        return
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        deadline = time.monotonic() + timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ConfigError(f"timed out waiting for the lock on {path}") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        _held[lock_path] = 1
        try:
            yield
        finally:
            del _held[lock_path]
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``text`` or leave it as it was; OSError becomes a one-line ConfigError."""
    try:
        _atomic_write(path, text.encode("utf-8"), mode)
    except OSError as exc:
        raise write_error(path, exc) from None


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    import tempfile  # only when something is written

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
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


def read_config_text(path: Path, *, limit: int = MAX_CONFIG_BYTES) -> str | None:
    """A config file's text (None when it does not exist), read at most ``limit`` bytes.

    A pipe or socket (which could block forever) and anything larger than ``limit`` (``/dev/zero``)
    are refused, as is text that is not UTF-8; every problem is one ConfigError naming the file.
    """
    try:
        with path.open("rb") as fh:
            st = os.fstat(fh.fileno())
            if stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode) or stat.S_ISDIR(st.st_mode):
                raise ConfigError(f"{path} is not a regular file")
            data = fh.read(limit + 1)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a directory, not a file") from None
    except PermissionError:
        raise ConfigError(f"cannot read {path}: permission denied") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ConfigError(f"{path} is larger than {limit:,} bytes; it cannot be a lime config file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None


def parse_config_json(path: Path, text: str) -> Any:
    """JSON from a config file, depth-limited; a problem is one ConfigError (never echoing the text)."""
    from lime import jsonguard

    try:
        return jsonguard.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValueError as exc:
        raise ConfigError(f"{path} is not usable JSON ({exc})") from None


def atomic_write_json(path: Path, data: Any, *, mode: int = 0o600) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", mode=mode)
