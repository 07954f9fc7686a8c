"""Whether bubblewrap can make namespaces here: the check every chat start makes for its one-line
sandbox note, kept apart from ``namespaces`` so that the note costs no more than a file read."""

from __future__ import annotations

import contextlib
import os
import shutil
from functools import cache
from pathlib import Path

BASE_FLAGS = ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
              "--new-session", "--cap-drop", "ALL"]


@cache
def available() -> tuple[str, str]:
    """(path of bwrap, "") where namespaces can be made here, else ("", why not).

    Trying bwrap costs a process (10-40 ms) that every chat start would pay for its one-line
    note, so a success is remembered in the config home for this bwrap, kernel and user; a
    command that then fails to set up is refused and forgets it (``forget_probe``)."""
    path = shutil.which("bwrap")
    if not path:
        return "", "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    key = _probe_key(path)
    marker = _probe_marker()
    try:
        if key and marker.read_text(encoding="utf-8") == key:
            return path, ""
    except (OSError, UnicodeDecodeError):
        pass
    import subprocess

    try:
        proc = subprocess.run([path, *BASE_FLAGS, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
                               "--", "/bin/true"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=10, start_new_session=True)
    except (OSError, subprocess.SubprocessError) as exc:
        return "", f"bwrap cannot run ({exc})"
    if proc.returncode != 0:
        why = proc.stderr.decode(errors="replace").strip().splitlines()
        return "", f"bwrap cannot create namespaces here ({why[-1][:200] if why else proc.returncode})"
    if key and marker.parent.parent.is_dir():  # never the reason the config home is created
        from lime.storage import atomic_write_text

        with contextlib.suppress(Exception):
            marker.parent.mkdir(mode=0o700, exist_ok=True)
            atomic_write_text(marker, key)
    return path, ""


def _probe_marker() -> Path:
    from lime import config

    return config.config_home() / "cache" / "sandbox-probe"


def _probe_key(path: str) -> str:
    """What a remembered probe holds for: this bwrap binary, this kernel, this user."""
    try:
        st = os.stat(path)
    except OSError:
        return ""
    return f"{path}:{st.st_size}:{st.st_mtime_ns}:{os.uname().release}:{os.getuid()}"


def forget_probe() -> None:
    """A command's namespaces could not be made after all: probe again next time."""
    available.cache_clear()
    with contextlib.suppress(OSError):
        _probe_marker().unlink()
