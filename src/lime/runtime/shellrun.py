"""Run one ``bash`` command for the model, inside the shell sandbox's layers.

Layers, outermost first (``layers`` says which run here):

1. namespaces (``runtime/namespaces.py``, bubblewrap): read-only root, writable workspace with
   read-only protected paths, private ``/tmp``, hidden config home and daemon sockets, no
   terminal, no capabilities, a TIOCSTI seccomp filter, nothing outliving the call;
2. Landlock (``runtime/sandbox.py``): inside the namespaces, entered by a two-line ``perl``
   trampoline after bubblewrap has made its mounts (Landlock forbids mounting), it limits writes
   to the workspace and ``/tmp`` again; its scopes (kernel 6.12+) refuse abstract unix sockets
   and signals to processes outside the call;
3. where namespaces cannot be made, Landlock alone is the fallback (the earlier design: it
   cannot take back the protected paths inside the workspace nor stop IPC through sockets).

The command always runs under ``bash`` (the grammar the permission check parses), with an
environment that holds none of lime's settings and no secret: ``*_API_KEY``, ``LIME_*`` and
every variable whose value carries a key lime knows (stored keys, ``--key-env`` variables,
variables named in header templates) are dropped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from lime.runtime import sandbox

if TYPE_CHECKING:
    from lime.runtime import subproc
    from lime.runtime.workspace import Workspace

BASH = "/bin/bash"
# Enters the Landlock ruleset lime passed as fd $ARGV[0], then execs the rest (perl-base is
# Essential on Debian; 2 ms against ~60 ms for a Python start here).
_TRAMPOLINE = 'syscall(446, 0 + shift(@ARGV), 0) == 0 or die "landlock: $!\\n"; exec {$ARGV[0]} @ARGV; die "exec: $!\\n"'


@dataclass(frozen=True)
class Layers:
    """Which of the sandbox's layers a command runs under here, and why any is missing."""

    namespaces: str  # "" when not used, else a description
    landlock: str
    why_not: str = ""  # why namespaces are not used, or why the sandbox is off
    off: bool = False  # turned off (settings or bypassPermissions), not missing

    @property
    def active(self) -> bool:
        return bool(self.namespaces or self.landlock)

    def summary(self) -> str:
        if self.off:
            return f"off ({self.why_not})"
        if self.namespaces:
            inner = f" + {self.landlock}" if self.landlock else " (no inner Landlock layer: " + self.why_not + ")"
            return f"{self.namespaces}{inner}"
        if self.landlock:
            return f"{self.landlock} only (no namespaces: {self.why_not})"
        return f"none ({self.why_not})"


@cache
def _perl() -> str:
    return shutil.which("perl") or ""


def layers(enabled: bool = True, network: bool = False) -> Layers:
    """Which layers a command runs under here."""
    if not enabled:
        return Layers("", "", "turned off in the settings or by bypassPermissions", off=True)
    abi, lwhy = sandbox.landlock_abi()
    bwrap, nwhy = namespaces_available()
    lock = f"landlock ABI {abi}" if abi else ""
    if bwrap:
        ns = "namespaces (bwrap" + (", network isolated)" if network else ")")
        if abi and not _perl():
            return Layers(ns, "", "perl is not installed to enter it")
        return Layers(ns, lock, lwhy)
    return Layers("", lock, nwhy if abi else f"{nwhy}; {lwhy}")


def namespaces_available() -> tuple[str, str]:
    from lime.runtime import nsprobe

    return nsprobe.available()


def child_env(secrets: list[str]) -> dict[str, str]:
    """The environment for commands the model runs: none of lime's settings, no variable holding a key."""
    from lime.catalog.presets import PRESETS

    names = {p.env_var for p in PRESETS.values() if p.env_var} | {"OPENAI_API_KEY"}
    values = [s for s in secrets if len(s) >= 8]
    return {k: v for k, v in os.environ.items()
            if k not in names and not k.endswith("_API_KEY") and not k.startswith("LIME_")
            and not any(s in v for s in values)}


@contextlib.contextmanager
def _closing(fds: list[int]) -> Iterator[None]:
    try:
        yield
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def run(ws: Workspace, command: str, *, timeout: float, keep: int, limit: int) -> subproc.Outcome:
    """Run ``command`` with ``bash -c`` under the layers ``layers`` names; SandboxError if they cannot be set up."""
    from lime.runtime import subproc

    env = child_env(ws.secrets)
    env.update((k, v) for k, v in ws.env.items() if not any(s and s in v for s in ws.secrets))  # settings' env
    network = bool(ws.isolate_network)
    which = layers(ws.sandbox, network)
    if not which.namespaces:
        with sandbox.shell(ws) as confine:
            return subproc.run([BASH, "-c", command], cwd=str(ws.cwd), env=env, timeout=timeout, keep=keep,
                               limit=limit, preexec=confine)
    from lime.runtime import namespaces

    bwrap, _ = namespaces.available()
    fds: list[int] = []
    with _closing(fds), namespaces.mounts(ws, network=network) as m:
        argv = [bwrap, *m.argv]
        filt = namespaces.seccomp_fd()
        if filt is not None:
            fds.append(filt)
            argv += ["--seccomp", str(filt)]
        inner: list[str] = []
        if which.landlock:
            rs = sandbox.inner_ruleset(ws, namespaces.private_tmp())
            fds.append(rs)
            inner = [_perl(), "-e", _TRAMPOLINE, str(rs)]
        info_r, info_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        fds += [info_r, info_w]
        argv += ["--info-fd", str(info_w), "--", *inner, BASH, "-c", command]
        # The inner ruleset carries Landlock's scopes; without it they are entered before bwrap
        # (a preexec_fn also costs Popen its fast vfork path).
        out = subproc.run(argv, cwd=str(ws.cwd), env=env, timeout=timeout, keep=keep, limit=limit,
                          preexec=None if inner else sandbox.scope_only(),
                          pass_fds=tuple(fd for fd in fds if fd != info_r))
        if not namespaces.wait_gone(info_r) and out.returncode != 0:
            namespaces.forget_probe()  # remembered as working, but not any more: probe again next time
            raise sandbox.SandboxError(1, f"bwrap could not create the namespaces: {out.text().strip()[-200:]}")
        return out
