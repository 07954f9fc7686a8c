"""Which host processes are running, by command line: a command's own ``$!`` is a pid inside the
sandbox's pid namespace, so tests find what a call left behind by a unique argument instead."""

from __future__ import annotations

from pathlib import Path


def running(needle: str) -> list[int]:
    """Pids of live (not zombie) processes whose command line starts with ``needle``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if cmdline.startswith(needle) and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found
