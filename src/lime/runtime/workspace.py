"""The directories tools may touch, and race-free access to the files inside them.

A path is checked after resolving symlinks: it must land under a workspace root (the current
directory plus any ``--add-dir``) and outside lime's config home. It is then opened from the
root's directory one component at a time with ``O_NOFOLLOW``, so a directory swapped for a
symlink between the check and the open makes the open fail instead of reaching outside.
Directory walks go the same way (each directory opened relative to its parent), and a symlink
met in a walk is shown only when its target passes the same check.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".mypy_cache", ".ruff_cache"}
MAX_WALK_ENTRIES = 50_000

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class ToolFailure(Exception):
    """A tool call that cannot be carried out; the message goes back to the model."""


def display(name: str) -> str:
    """A name as the model and the terminal see it: undecodable bytes and control characters escaped."""
    if name.isprintable():
        return name
    out = []
    for ch in name:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch.isprintable():
            out.append(ch)
        else:  # \n, \x1b, \u202e ...
            out.append(ascii(ch)[1:-1])
    return "".join(out)


def _unescape(raw: str) -> str:
    """Undo ``display``'s ``\\xNN`` escapes, so the model can name the files it was shown."""
    def byte(m: re.Match[str]) -> str:
        n = int(m.group(1), 16)
        return chr(0xDC00 + n if n >= 0x80 else n)

    return re.sub(r"\\x([0-9a-fA-F]{2})", byte, raw)


def _refused_race(raw: str) -> ToolFailure:
    return ToolFailure(f"{display(raw)} changed while it was being opened (a symlink appeared); access refused")


@dataclass
class Workspace:
    """The directories a session's tools may touch, and what they must never reach or reveal."""

    cwd: Path
    extra: list[Path] = field(default_factory=list)
    # lime's own config home (credentials, local server key) is never readable by tools.
    private: list[Path] = field(default_factory=list)
    # Key values that must never come back from a tool (masked in outputs).
    secrets: list[str] = field(default_factory=list, repr=False)
    # Shell commands run under the Landlock sandbox (off with bypassPermissions or "sandbox": false).
    sandbox: bool = True
    # Sandboxed commands also get a network namespace of their own (sandbox.networkIsolation).
    isolate_network: bool = False
    # Paths that Read(GLOB) deny rules keep from the reading tools: every walk entry and search hit.
    hidden: Callable[[Path], bool] | None = field(default=None, repr=False)
    # Variables the settings' "env" sets for shell commands (on top of the scrubbed environment).
    env: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def create(cls, cwd: Path | None = None, add_dirs: list[str] | None = None, *,
               sandbox: bool = True) -> Workspace:
        from lime import config
        from lime.errors import UsageError

        base = (cwd or Path.cwd()).resolve()
        extra = []
        for raw in add_dirs or []:
            p = (base / Path(raw).expanduser()).resolve()
            if not p.is_dir():
                raise UsageError(f"--add-dir {raw}: not a directory")
            extra.append(p)
        return cls(base, extra, [config.config_home().expanduser().resolve()], sandbox=sandbox)

    @property
    def roots(self) -> list[Path]:
        return [self.cwd, *self.extra]

    def is_private(self, path: Path) -> bool:
        return any(path == p or path.is_relative_to(p) for p in self.private)

    def allows(self, real: Path) -> bool:
        """Whether a resolved path is inside a root, outside the config home, and not denied by a rule."""
        return (any(real == r or real.is_relative_to(r) for r in self.roots) and not self.is_private(real)
                and not (self.hidden is not None and self.hidden(real)))

    def _private_ids(self) -> set[tuple[int, int]]:
        ids = set()
        for p in self.private:
            with contextlib.suppress(OSError):
                st = os.stat(p)
                ids.add((st.st_dev, st.st_ino))
        return ids

    def scrub(self, text: str) -> str:
        from lime.auth.masking import redact

        return redact(text, self.secrets)

    def resolve(self, raw: Any, *, must_exist: bool = False) -> Path:
        """The real path ``raw`` names, refused unless it is inside the workspace."""
        if not isinstance(raw, str) or not raw.strip():
            raise ToolFailure("a path is required (a non-empty string)")
        if "\0" in raw:
            raise ToolFailure("a path cannot contain a NUL character")
        try:
            path = self._real(raw)
            if not path.exists() and "\\x" in raw:
                alt = self._real(_unescape(raw))
                path = alt if alt.exists() else path
        except (OSError, RuntimeError, ValueError) as exc:
            raise ToolFailure(f"{display(raw)}: cannot resolve the path ({exc})") from None
        if not any(path == r or path.is_relative_to(r) for r in self.roots):
            roots = ", ".join(display(str(r)) for r in self.roots)
            raise ToolFailure(f"{display(raw)} is outside the workspace ({roots}); access refused")
        if self.is_private(path):
            raise ToolFailure(f"{display(raw)} is inside lime's configuration directory (credentials); access refused")
        if must_exist and not path.exists():
            raise ToolFailure(f"{display(raw)}: no such file or directory")
        return path

    def _real(self, raw: str) -> Path:
        return (self.cwd / Path(raw).expanduser()).resolve()

    def show(self, path: Path) -> str:
        try:
            return display(str(path.relative_to(self.cwd)) or ".")
        except ValueError:
            return display(str(path))

    # -- opening without races -----------------------------------------------------------------

    def _split(self, path: Path) -> tuple[Path, tuple[str, ...]]:
        root = max((r for r in self.roots if path == r or path.is_relative_to(r)), key=lambda r: len(r.parts))
        return root, path.relative_to(root).parts

    def open(self, path: Path, flags: int, mode: int = 0o666, *, raw: str = "", make_dirs: bool = False) -> int:
        """An fd for a checked path, reached from its root without following any symlink.

        ``flags`` apply to the last component; every directory on the way is opened with
        ``O_NOFOLLOW`` relative to the one before, and none may be the config home.
        """
        root, parts = self._split(path)
        private = self._private_ids()
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for i, name in enumerate(parts):
                last = i == len(parts) - 1
                try:
                    nfd = os.open(name, (flags | os.O_NOFOLLOW | os.O_CLOEXEC) if last else _DIR_FLAGS, mode, dir_fd=fd)
                except FileNotFoundError:
                    if not make_dirs or (last and not flags & os.O_DIRECTORY):
                        raise
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(name, 0o777, dir_fd=fd)
                    nfd = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise _refused_race(raw or str(path)) from None
                    raise
                os.close(fd)
                fd = nfd
                st = os.fstat(fd)
                if (st.st_dev, st.st_ino) in private:
                    raise ToolFailure(f"{display(raw or str(path))} is inside lime's configuration directory; "
                                      "access refused")
            return fd
        except BaseException:
            os.close(fd)
            raise

    def read_bytes(self, path: Path, limit: int, *, raw: str = "") -> bytes:
        """A regular file's bytes; FIFOs, devices and over-large files are refused, not opened for reading."""
        name = display(raw or path.name)
        try:
            fd = self.open(path, os.O_RDONLY | os.O_NONBLOCK, raw=raw)
        except FileNotFoundError:
            raise ToolFailure(f"{name}: no such file or directory") from None
        except OSError as exc:
            raise ToolFailure(f"cannot read {name}: {exc.strerror or exc}") from None
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise ToolFailure(f"{name} is a directory; use glob_search")
            if not stat.S_ISREG(st.st_mode):
                raise ToolFailure(f"{name} is not a regular file")
            if st.st_size > limit:
                raise ToolFailure(f"{name} is {st.st_size // 1_000_000} MB; use grep_search, or bash with "
                                  "head/sed, to read part of it")
            with os.fdopen(os.dup(fd), "rb") as fh:
                return fh.read(limit + 1)
        except OSError as exc:
            raise ToolFailure(f"cannot read {name}: {exc.strerror or exc}") from None
        finally:
            os.close(fd)

    def write_bytes(self, path: Path, data: bytes, *, raw: str = "") -> bool:
        """Replace (or create) a file atomically in its checked directory; True when it existed before."""
        name = display(raw or path.name)
        if path.parent == path or path in self.roots:
            raise ToolFailure(f"{name} is a directory")
        try:
            dfd = self.open(path.parent, os.O_RDONLY | os.O_DIRECTORY, raw=raw, make_dirs=True)
        except OSError as exc:
            raise ToolFailure(f"cannot write {name}: {exc.strerror or exc}") from None
        tmp = f".{path.name}.lime-{os.getpid()}-{id(data):x}.tmp"
        try:
            try:
                old = os.stat(path.name, dir_fd=dfd, follow_symlinks=False)
            except FileNotFoundError:
                old = None
            if old is not None and stat.S_ISDIR(old.st_mode):
                raise ToolFailure(f"{name} is a directory")
            if old is not None and stat.S_ISLNK(old.st_mode):
                raise _refused_race(raw or str(path))
            if old is not None and not stat.S_ISREG(old.st_mode):
                raise ToolFailure(f"{name} is not a regular file")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666, dir_fd=dfd)
            try:
                if old is not None:
                    os.fchmod(fd, stat.S_IMODE(old.st_mode))
                with os.fdopen(fd, "wb", closefd=False) as fh:
                    fh.write(data)
            finally:
                os.close(fd)
            os.replace(tmp, path.name, src_dir_fd=dfd, dst_dir_fd=dfd)
            return old is not None
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dfd)
            raise ToolFailure(f"cannot write {name}: {exc.strerror or exc}") from None
        finally:
            os.close(dfd)

    # -- walking -------------------------------------------------------------------------------

    def entries(self, directory: Path, *, recursive: bool, raw: str = "") -> Iterator[tuple[Path, bool]]:
        """(path, is_dir) for what a directory holds, sorted, skipping what tools may not see.

        Subdirectories are opened relative to their parent with ``O_NOFOLLOW``; a symlink is
        listed only when its target is inside the workspace, and never descended into.
        """
        try:
            fd = self.open(directory, os.O_RDONLY | os.O_DIRECTORY, raw=raw)
        except OSError as exc:
            raise ToolFailure(f"cannot list {display(raw or str(directory))}: {exc.strerror or exc}") from None
        private = self._private_ids()
        budget = [MAX_WALK_ENTRIES]
        yield from self._walk(fd, directory, recursive, private, budget)

    def _walk(self, fd: int, base: Path, recursive: bool, private: set[tuple[int, int]],
              budget: list[int]) -> Iterator[tuple[Path, bool]]:
        try:
            with os.scandir(fd) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError:
            items = []
        subdirs: list[tuple[str, Path]] = []
        try:
            for entry in items:
                if budget[0] <= 0:
                    return
                path = base / entry.name
                if self.hidden is not None and self.hidden(path):
                    continue
                try:
                    if entry.is_symlink():
                        real = Path(os.path.realpath(path))
                        if not self.allows(real):
                            continue
                        budget[0] -= 1
                        yield path, real.is_dir()
                        continue
                    is_dir = entry.is_dir(follow_symlinks=False)
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if (st.st_dev, st.st_ino) in private or (is_dir and entry.name in SKIP_DIRS):
                    continue
                budget[0] -= 1
                yield path, is_dir
                if is_dir and recursive:
                    subdirs.append((entry.name, path))
            for name, path in subdirs:
                try:
                    sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError:
                    continue  # gone, or swapped for a symlink since it was listed
                yield from self._walk(sub, path, recursive, private, budget)
        finally:
            os.close(fd)
