"""The outer layer of the shell sandbox: each ``bash`` call runs in new Linux namespaces, set up
by bubblewrap (``bwrap``, Debian's ``bubblewrap`` package; unprivileged user namespaces, so it
works for root and for ordinary users alike).

Inside, the root is read-only; the workspace roots are writable except the protected paths
(``runtime/protected.py``), each bind-mounted read-only over itself; a protected path that does
not exist yet gets an empty read-only placeholder for the length of the call, so it cannot be
created either (parents of nested ones are bound onto themselves, so they cannot be renamed
away). ``/tmp`` is a private directory of this lime process, lime's config home an empty
tmpfs, ``/run/user`` and other daemons' sockets are hidden; ``/proc`` and ``/dev`` are new
(no host processes, no host terminals). New user, pid, ipc and uts namespaces (net too when
``sandbox.networkIsolation`` is on); no capabilities, ``no_new_privs``, a new session with no
controlling terminal, the seccomp filter of ``runtime/seccomp.py``; the namespace's init dies
with the call and with lime (PDEATHSIG), taking every process of the call with it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lime.runtime import protected, seccomp
from lime.runtime.nsprobe import BASE_FLAGS as _BASE_FLAGS
from lime.runtime.nsprobe import available as available  # the probe lives apart; callers ask here
from lime.runtime.nsprobe import forget_probe as forget_probe

if TYPE_CHECKING:
    from lime.runtime.workspace import Workspace

# Sockets of other programs a command could ask to act for it (besides /tmp and /run/user).
HIDDEN_RUN = ("/run/user", "/run/dbus", "/run/docker.sock", "/run/docker", "/run/containerd", "/run/podman",
              "/run/screen", "/var/run/docker.sock")
_tmp_lock = threading.Lock()
_private_tmp: list[Path] = []


def private_tmp() -> Path:
    """This lime process's own temp dir, mounted as ``/tmp`` in every call (removed when lime exits)."""
    with _tmp_lock:
        if not _private_tmp:
            path = Path(tempfile.mkdtemp(prefix="lime-sandbox-"))
            _private_tmp.append(path)
            atexit.register(shutil.rmtree, path, True)
        return _private_tmp[0]


# Placeholders lime made, by the number of calls holding them (a call holds every placeholder
# of its roots, also those another call made, so one call's clean-up never pulls another's), and
# those no call holds any more, removed by a background thread (deepest first, one at a time
# under the lock, so a starting call can take one back before it goes).
_held: dict[Path, int] = {}
_pending: list[Path] = []
_held_lock = threading.Lock()
_cleaner: list[threading.Thread] = []


def _claim(roots: list[Path], created: list[Path]) -> None:
    """Hold every placeholder under ``roots`` (called with the lock)."""
    for path in [p for p in _pending if _inside(p, roots)]:
        _pending.remove(path)
        _held[path] = 0
    for path in list(_held):
        if path not in created and _inside(path, roots):
            created.append(path)
    for path in created:
        _held[path] = _held.get(path, 0) + 1


def _release(created: list[Path]) -> None:
    with _held_lock:
        for path in created:
            _held[path] -= 1
            if not _held[path]:
                del _held[path]
                _pending.append(path)
        _pending.sort(key=lambda p: len(p.parts))
        if _pending and not (_cleaner and _cleaner[0].is_alive()):
            if not _cleaner:
                atexit.register(settle)
            _cleaner[:] = [threading.Thread(target=settle, name="lime-placeholders", daemon=True)]
            _cleaner[0].start()


def settle() -> None:
    """Remove the placeholders no call holds (a background thread does this after each call, lime at exit)."""
    while True:
        with _held_lock:
            if not _pending:
                return
            _remove([_pending.pop()])


@dataclass
class Mounts:
    argv: list[str]
    created: list[Path] = field(default_factory=list)


def _placeholder(root: Path, rel: str, created: list[Path], is_file: bool | None = None) -> Path | None:
    """Create an empty ``root/rel`` (by default a file for ``.json``/``.md`` names, else a directory)."""
    target = root / rel
    if is_file is None:
        is_file = rel.endswith((".json", ".md"))
    parts = Path(rel).parts
    try:
        for i in range(1, len(parts)):
            parent = root.joinpath(*parts[:i])
            if not os.path.lexists(parent):
                os.mkdir(parent, 0o755)
                created.append(parent)
            elif not stat.S_ISDIR(os.lstat(parent).st_mode):
                return None
        if is_file:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644))
        else:
            os.mkdir(target, 0o755)
        created.append(target)
        return target
    except OSError:
        return None  # a read-only or foreign workspace: the command cannot create it either


def _ancestors(root: Path, path: Path) -> list[Path]:
    """Directories between ``root`` and ``path`` (exclusive), shallowest first."""
    rel = path.relative_to(root).parts
    return [root.joinpath(*rel[:i]) for i in range(1, len(rel))]


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == r or path.is_relative_to(r) for r in roots)


@contextlib.contextmanager
def mounts(ws: Workspace, *, network: bool) -> Iterator[Mounts]:
    """The bwrap arguments for one call (placeholders exist while the context is open)."""
    argv = list(_BASE_FLAGS)
    if network:
        argv.append("--unshare-net")
    argv += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--bind", str(private_tmp()), "/tmp"]
    for hidden in HIDDEN_RUN:
        if os.path.lexists(hidden) and not os.path.islink(hidden):
            argv += (["--tmpfs", hidden] if os.path.isdir(hidden) else ["--ro-bind", "/dev/null", hidden])
    result = Mounts(argv)
    roots = [Path(os.path.realpath(r)) for r in ws.roots]
    try:
        with _held_lock:
            _claim(roots, result.created)
            try:
                for root in roots:
                    argv += ["--bind", str(root), str(root)]
                for root in roots:
                    argv += _protect(root, roots, result.created)
            finally:
                for path in result.created:
                    _held.setdefault(path, 1)
        for private in ws.private:
            if os.path.isdir(private):
                argv += ["--tmpfs", str(private)]
        argv += ["--setenv", "TMPDIR", "/tmp", "--chdir", str(ws.cwd)]
        yield result
    finally:
        _release(result.created)


def _protect(root: Path, roots: list[Path], created: list[Path]) -> list[str]:
    """Mounts making each protected path under ``root`` read-only (placeholders made for missing ones)."""
    argv: list[str] = []
    present, missing = protected.mounts(root)
    for rel in missing:
        made = _placeholder(root, rel, created)
        if made is not None:
            present.append(made)
    bound: set[Path] = set()
    for path in present:
        real = Path(os.path.realpath(path))
        if not _inside(real, roots):
            continue  # outside the writable roots it is read-only anyway
        if not os.path.exists(real):  # a dangling link: hold its target instead
            base = next(r for r in roots if real == r or real.is_relative_to(r))
            is_file = path.name.lower().endswith((".json", ".md")) or path.name.lower() in protected.PROTECTED_FILES
            if real == base or _placeholder(base, str(real.relative_to(base)), created, is_file) is None:
                continue
        for anc in _ancestors(root, real) if real.is_relative_to(root) else []:
            if anc not in bound and anc not in present:
                argv += ["--bind", str(anc), str(anc)]  # a mount point cannot be renamed away
                bound.add(anc)
        argv += ["--ro-bind", str(real), str(real)]
    return argv


def _remove(paths: list[Path]) -> None:
    """Remove placeholders (deepest first) while they are still empty."""
    for path in sorted(paths, key=lambda p: -len(p.parts)):
        with contextlib.suppress(OSError):
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode):
                os.rmdir(path)
            elif stat.S_ISREG(st.st_mode) and st.st_size == 0:
                os.unlink(path)


def wait_gone(info_fd: int, timeout: float = 1.0) -> bool:
    """Wait until the namespace's init (named in bwrap's ``--info-fd`` report) has exited; False
    when bwrap never reported one (it could not make the namespaces: the command did not run).

    bwrap returns as soon as the command's exit status is known; its init then kills what is
    left in the namespace. Waiting for the init means that is done when the call returns."""
    import json
    import select

    try:
        report = os.read(info_fd, 4096)
    except OSError:
        return False
    try:
        pid = int(json.loads(report)["child-pid"])
        pidfd = os.pidfd_open(pid)
    except (OSError, ValueError, KeyError, TypeError):
        return bool(report)  # the init is already gone
    try:
        select.select([pidfd], [], [], timeout)
    finally:
        os.close(pidfd)
    return True


def seccomp_fd() -> int | None:
    """A pipe holding the seccomp filter, for ``bwrap --seccomp FD`` (the caller closes it)."""
    program = seccomp.tty_filter()
    if program is None:
        return None
    r, w = os.pipe()
    try:
        os.write(w, program)
    finally:
        os.close(w)
    return r
