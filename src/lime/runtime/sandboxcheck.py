"""The shell sandbox's self-test (``lime sandbox``, ``/sandbox``): which layers run here, and one
sandboxed command in a scratch workspace that tries what a hostile command would, each result
checked from outside.

Checks: a protected path cannot be written or created, lime's config home is empty inside, a
unix socket under the host's ``/tmp`` (where tmux and X11 keep theirs) is not there, an abstract
unix socket outside is refused (Landlock scope), no terminal, no capabilities, ``no_new_privs``
and a seccomp filter, a ``setsid`` background child does not outlive the call, and the network
is unreachable when ``sandbox.networkIsolation`` is on.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from lime.runtime import shellrun

_PROBE = r"""
( : > .git/config ) 2>/dev/null && echo protected=written || echo protected=refused
mkdir .lime 2>/dev/null && echo created=yes || echo created=no
[ -d "$HOME_DIR" ] && echo home="$(ls -A "$HOME_DIR" 2>/dev/null | head -c 200 | tr '\n' ' ')" || echo home=
[ -e "$SOCK" ] && echo socket=visible || echo socket=absent
if [ -n "$ABSTRACT" ] && command -v perl >/dev/null; then
  perl -MSocket -e 'socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die;
    print connect($s, pack_sockaddr_un("\0" . $ARGV[0])) ? "abstract=connected\n" : "abstract=refused\n"' "$ABSTRACT"
fi
read -r st < /proc/$$/stat; st=${st##*) }; set -- $st; echo tty=$5
( : > /dev/tty ) 2>/dev/null && echo devtty=opened || echo devtty=refused
grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status | tr -d ' \t' | tr ':' '='
(exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && echo net=reached || echo net=unreachable
[ -n "$MARK" ] && setsid sleep "$MARK" >/dev/null 2>&1 < /dev/null &
echo done=1
"""


@contextlib.contextmanager
def _listeners() -> Iterator[tuple[str, str, int]]:
    """A unix socket under the host /tmp, an abstract one and a TCP port on 127.0.0.1, all listening."""
    base = tempfile.mkdtemp(prefix="lime-selftest-", dir="/tmp" if os.path.isdir("/tmp") else None)
    path = os.path.join(base, "sock")
    abstract = f"lime-selftest-{os.getpid()}-{time.monotonic_ns()}"
    socks = []
    try:
        for family, addr in ((socket.AF_UNIX, path), (socket.AF_UNIX, "\0" + abstract),
                             (socket.AF_INET, ("127.0.0.1", 0))):
            s = socket.socket(family)
            socks.append(s)
            s.bind(addr)
            s.listen(4)
        yield path, abstract, socks[2].getsockname()[1]
    finally:
        for s in socks:
            s.close()
        with contextlib.suppress(OSError):
            os.unlink(path)
        with contextlib.suppress(OSError):
            os.rmdir(base)


def _running(mark: str) -> bool:
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if mark.encode() in Path(entry.path, "cmdline").read_bytes():
                    state = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state not in ("Z", "X"):
                        return True
    return False


def summary(enabled: bool = True, network: bool = False) -> str:
    """The one line ``lime status`` shows."""
    return shellrun.layers(enabled, network).summary()


def check(config_home: Path, *, enabled: bool = True, network: bool = False) -> tuple[list[str], bool]:
    """(lines to show, whether every active layer proved itself here)."""
    from lime.runtime import subproc
    from lime.runtime.workspace import Workspace

    which = shellrun.layers(enabled, network)
    lines = [f"sandbox: {which.summary()}"]
    if not which.active:
        return [*lines, "no layer is active: commands run with your full rights"], not enabled
    t0 = time.monotonic()
    mark = f"59.{os.getpid()}{time.monotonic_ns() % 100000}"
    home = config_home.expanduser()
    with tempfile.TemporaryDirectory(prefix="lime-sandbox-check-") as tmp, _listeners() as (path, abstract, port):
        root = Path(tmp).resolve()
        (root / ".git").mkdir()
        (root / ".git" / "config").write_text("[core]\n")
        ws = Workspace(root, [], [home.resolve()], sandbox=True, isolate_network=network)
        env_extra = {"HOME_DIR": str(home), "SOCK": path, "ABSTRACT": abstract if which.landlock else "",
                     "PORT": str(port), "MARK": mark if which.namespaces else ""}
        script = "".join(f"{k}={_quote(v)}\n" for k, v in env_extra.items()) + _PROBE
        out: subproc.Outcome = shellrun.run(ws, script, timeout=10, keep=8000, limit=1 << 20)
        took = time.monotonic() - t0
        seen = dict(line.split("=", 1) for line in out.text().splitlines() if "=" in line)
        leftover = _running(mark)
        if which.namespaces:
            from lime.runtime import namespaces

            namespaces.settle()
        config_untouched = (root / ".git" / "config").read_text() == "[core]\n"
        lime_dir_made = (root / ".lime").exists()
    ns = bool(which.namespaces)
    results: list[tuple[bool | None, str]] = [
        (seen.get("done") == "1", f"a command runs under the sandbox ({took:.2f} s)"),
        (config_untouched and not lime_dir_made and seen.get("protected") == "refused" if ns else None,
         "protected paths read-only (.git/config write refused, .lime not creatable)"
         + ("" if ns else ": not enforced without namespaces")),
        (home.is_dir() and seen.get("home") == "" if home.is_dir() else True,
         "lime's config home invisible" + ("" if home.is_dir() else " (it does not exist yet)")),
        (seen.get("socket") == "absent" if ns else None, "a unix socket under the host /tmp is unreachable"
         + ("" if ns else ": not without namespaces")),
        (seen.get("abstract") == "refused" if "abstract" in seen else None,
         "abstract unix sockets outside the call refused" + ("" if "abstract" in seen else
                                                             ": not checked (no Landlock scope or perl here)")),
        (seen.get("tty") == "0" and seen.get("devtty") == "refused" if ns else None,
         "no controlling terminal, /dev/tty refused" + ("" if ns else ": not without namespaces")),
        (seen.get("CapEff") == "0000000000000000" and seen.get("NoNewPrivs") == "1" and seen.get("Seccomp") == "2"
         if ns else None, "no capabilities, no_new_privs, seccomp filter (TIOCSTI)"
         + ("" if ns else ": not without namespaces")),
        (not leftover if ns else None, "a setsid background child did not outlive the call"
         + ("" if ns else ": not without namespaces")),
        ((seen.get("net") == "unreachable") if network else None,
         "network isolated" if network else "network not isolated (sandbox.networkIsolation is off)"),
    ]
    ok = True
    for passed, text in results:
        mark_ = "ok  " if passed else ("--  " if passed is None else "FAIL")
        ok = ok and passed is not False
        lines.append(f"  {mark_} {text}")
    lines.append(f"self-test {'passed' if ok else 'FAILED'}")
    return lines, ok


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"
