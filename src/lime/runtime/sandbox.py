"""Landlock confinement for the processes tools start (Linux 5.13+; stdlib ctypes, no extra package).

For ``bash`` it is the inner layer inside the namespaces (``inner_ruleset``, entered after
bubblewrap's mounts) and the fallback where namespaces cannot be made (``shell``); see
``runtime/shellrun.py``. Its scopes (ABI 6) refuse abstract unix sockets and signals to
processes outside the command.

``bash`` commands may write only in the workspace roots, the ``--add-dir`` directories and the
temp dir, and cannot read lime's config home (credentials, the local server's key) at all.
Landlock rules only add access, so "everything but the config home" is built by granting the
other entries of each of the config home's ancestors, one rule per entry, walked when a
command starts: the ancestors themselves stay unlistable, and an entry created in one of
them after a command started is invisible to that command (the next one sees it).

``grep_search`` runs ripgrep under a tighter set: read access to the workspace roots and
to what the rg binary needs to start, nothing else, so a symlink swapped in mid-search
cannot make it read outside.

The ruleset is built in lime (plain syscalls that create a file descriptor) and the child
enters it in ``preexec_fn`` with ``PR_SET_NO_NEW_PRIVS`` and ``landlock_restrict_self`` just
before it execs; if that fails, the command does not run.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lime.runtime.workspace import Workspace

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # the same on every architecture
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15  # ABI 2, 3 and 5
SCOPE_ABSTRACT_UNIX, SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6: no abstract unix socket, no signal past the domain

READ = EXECUTE | READ_FILE | READ_DIR
FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # rights a rule on a non-directory may hold
DEVICES = READ | WRITE_FILE | TRUNCATE | IOCTL_DEV  # /dev/null, /dev/tty: written, never created


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class SandboxError(OSError):
    """The sandbox could not be set up; the command is not run without it."""


@cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.prctl.restype = ctypes.c_int
    return libc


@cache
def landlock_abi() -> tuple[int, str]:
    """(ABI version, "") where Landlock works, else (0, why not)."""
    if not sys.platform.startswith("linux"):
        return 0, f"Landlock is Linux-only (this is {sys.platform})"
    try:
        libc = _libc()
    except OSError as exc:
        return 0, f"cannot load the C library ({exc})"
    abi = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    if abi < 1:
        err = ctypes.get_errno()
        why = {38: "the kernel has no Landlock (before 5.13)", 95: "Landlock is disabled in this kernel"}
        return 0, why.get(err, f"Landlock is unavailable ({os.strerror(err)})")
    return int(abi), ""


def _all_rights(abi: int) -> int:
    rights = (1 << 13) - 1
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


@dataclass
class _Ruleset:
    """A Landlock ruleset being built: rules are added path by path before it is enforced."""

    fd: int
    handled: int
    rules: int = 0

    def add(self, path: Path, rights: int) -> None:
        try:
            pfd = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return  # gone since it was listed: nothing to grant
        try:
            mode = os.fstat(pfd).st_mode
            if stat.S_ISLNK(mode):
                return  # a link's target is covered (or hidden) by its own rule
            rights &= self.handled
            if not stat.S_ISDIR(mode):
                rights &= FILE_ONLY
            if not rights:
                return
            attr = _PathBeneath(rights, pfd)
            if _libc().syscall(_SYS_ADD_RULE, ctypes.c_int(self.fd), ctypes.c_int(_RULE_PATH_BENEATH),
                               ctypes.byref(attr), ctypes.c_uint32(0)) != 0:
                err = ctypes.get_errno()
                raise SandboxError(err, f"landlock_add_rule {path}: {os.strerror(err)}")
            self.rules += 1
        finally:
            os.close(pfd)

    def grant(self, tree: Path, rights: int, hidden: list[Path]) -> None:
        """``rights`` on everything under ``tree`` except the ``hidden`` directories."""
        inside = [h for h in hidden if h == tree or h.is_relative_to(tree)]
        if not inside:
            self.add(tree, rights)
            return
        if tree in inside:
            return
        try:
            with os.scandir(tree) as it:
                names = [e.name for e in it]
        except OSError:
            return
        for name in names:
            self.grant(tree / name, rights, inside)


class _Attr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


def _new_ruleset(abi: int, *, fs: bool = True, scoped: bool = False) -> _Ruleset:
    handled = _all_rights(abi) if fs else 0
    attr = _Attr(handled, 0, SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL if scoped and abi >= 6 else 0)
    size = 24 if abi >= 6 else 8
    fd = _libc().syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if fd < 0:
        err = ctypes.get_errno()
        raise SandboxError(err, f"landlock_create_ruleset: {os.strerror(err)}")
    return _Ruleset(int(fd), handled)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2


def _enter(fd: int, tty_filter: bool = False) -> Callable[[], None]:
    """The ``preexec_fn`` entering ruleset ``fd`` (and, for the fallback, the TIOCSTI seccomp filter)."""
    libc = _libc()
    prctl, syscall = libc.prctl, libc.syscall
    fprog = None
    if tty_filter:
        from lime.runtime import seccomp

        program = seccomp.tty_filter()
        if program is not None:
            buf = ctypes.create_string_buffer(program, len(program))
            fprog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
            fprog._buf = buf  # kept alive with the struct

    def preexec() -> None:  # runs in the child between fork and exec: a few syscalls, nothing else
        if prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
        if fprog is not None and prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "seccomp filter failed")
        if syscall(_SYS_RESTRICT_SELF, fd, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")

    return preexec


def _hidden(ws: Workspace) -> list[Path]:
    return [Path(os.path.realpath(p)) for p in ws.private]


def writable(ws: Workspace) -> list[Path]:
    """Where a sandboxed command may write: the roots and the temp dir."""
    import tempfile  # not at import: every chat start-up probes Landlock through this module

    return [*ws.roots, Path(os.path.realpath(tempfile.gettempdir()))]


@contextlib.contextmanager
def shell(ws: Workspace) -> Iterator[Callable[[], None] | None]:
    """The ``preexec_fn`` that confines a shell command, or None when the sandbox is off or missing."""
    abi, _why = landlock_abi()
    if not ws.sandbox or not abi:
        yield None
        return
    rs = _new_ruleset(abi, scoped=True)
    try:
        hidden = _hidden(ws)
        # Terminals are neither readable nor writable: the user's (/dev/pts/N) least of all.
        rs.grant(Path("/"), READ | IOCTL_DEV, [*hidden, *(Path(p) for p in TERMINALS)])
        for dev in DEVICE_FILES:
            rs.add(Path(dev), DEVICES)
        for tree in writable(ws):
            rs.grant(tree, rs.handled, hidden)
        yield _enter(rs.fd, tty_filter=True)
    finally:
        os.close(rs.fd)


DEVICE_FILES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty")
TERMINALS = ("/dev/pts", "/dev/console", "/dev/ptmx")


def inner_ruleset(ws: Workspace, tmp: Path) -> int:
    """The ruleset a command enters inside the namespaces (its fd; the caller closes it).

    Rules hold on inodes, so they are made here, on the host paths bubblewrap binds into the
    namespaces: read everything, write the workspace roots and the private ``tmp`` (mounted as
    ``/tmp``) and the few device files bubblewrap binds from the host; plus the scopes."""
    abi, why = landlock_abi()
    if not abi:
        raise SandboxError(0, why)
    rs = _new_ruleset(abi, scoped=True)
    try:
        rs.add(Path("/"), READ | IOCTL_DEV)
        for dev in DEVICE_FILES:
            rs.add(Path(dev), DEVICES)
        hidden = _hidden(ws)
        for tree in [*ws.roots, tmp]:
            rs.grant(Path(os.path.realpath(tree)), rs.handled, hidden)
    except BaseException:
        os.close(rs.fd)
        raise
    return rs.fd


@cache
def _scope_fd() -> int:
    abi, _why = landlock_abi()
    return _new_ruleset(abi, fs=False, scoped=True).fd if abi >= 6 else -1


def scope_only() -> Callable[[], None] | None:
    """A ``preexec_fn`` entering Landlock's scopes alone (no file rules, so bubblewrap may still mount)."""
    fd = _scope_fd()
    return _enter(fd) if fd >= 0 else None


@contextlib.contextmanager
def reader(ws: Workspace, binary: str) -> Iterator[Callable[[], None] | None]:
    """The ``preexec_fn`` for a search tool: read the workspace roots, run ``binary``, nothing more."""
    abi, _why = landlock_abi()
    if not abi:
        yield None
        return
    rs = _new_ruleset(abi)
    try:
        hidden = _hidden(ws)
        for root in ws.roots:
            rs.grant(root, READ_FILE | READ_DIR, hidden)
        rs.add(Path(os.path.realpath(binary)), EXECUTE | READ_FILE)
        for lib in ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/etc/ld.so.cache"):
            if os.path.exists(lib):
                rs.grant(Path(os.path.realpath(lib)), EXECUTE | READ_FILE | READ_DIR, hidden)
        yield _enter(rs.fd)
    finally:
        os.close(rs.fd)
