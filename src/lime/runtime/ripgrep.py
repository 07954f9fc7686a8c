"""``grep_search`` through ripgrep: linear-time regexes, no symlink following, FIFOs skipped.

ripgrep runs with a deadline and an output cap (``subproc.run``), never reads a config file,
and every hit it reports is checked against the workspace again before the model sees it.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
from functools import cache
from pathlib import Path

from lime.runtime import sandbox, subproc
from lime.runtime.workspace import SKIP_DIRS, ToolFailure, Workspace, _unescape, display

MAX_MATCHES = 200
MAX_LINE_CHARS = 2000
TIMEOUT = 20.0
OUTPUT_CAP = 1_000_000


@cache
def rg_path() -> str | None:
    """The rg binary the ``ripgrep`` package installed beside this Python, else one on PATH."""
    for scripts in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(scripts) / "rg"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("rg")


def command(rg: str, pattern: str, root: Path, *, glob: str | None, ignore_case: bool,
            excluded: list[str]) -> list[str]:
    argv = [rg, "--no-config", "--color", "never", "--no-heading", "--with-filename", "--line-number", "--null",
            "--hidden", "--no-follow", "--sort", "path", "--max-columns", str(MAX_LINE_CHARS),
            "--max-columns-preview", "--max-filesize", "20M"]
    argv += ["--glob", "!{" + ",".join(sorted(SKIP_DIRS)) + "}"]
    for rel in excluded:
        argv += ["--glob", "!/" + rel.replace("\\", "\\\\").replace("[", "\\[").replace("*", "\\*")]
    if glob:
        argv += ["--glob", glob]
    if ignore_case:
        argv.append("--ignore-case")
    return [*argv, "--regexp", pattern, "--", str(root)]


def _hit_path(printed: str) -> Path:
    """The file a hit names: ripgrep escapes bytes that are not UTF-8 as ``\\xNN``, as ``display`` does."""
    path = Path(printed)
    if "\\x" in printed and not os.path.lexists(path):
        path = Path(_unescape(printed))
    return path


def search(ws: Workspace, pattern: str, root: Path, *, raw: str, glob: str | None, ignore_case: bool) -> str:
    rg = rg_path()
    if rg is None:
        raise ToolFailure("ripgrep (rg) is not installed; reinstall lime, whose ripgrep dependency ships it")
    try:
        mode = os.stat(root).st_mode
    except OSError as exc:
        raise ToolFailure(f"{display(raw)}: {exc.strerror or exc}") from None
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):  # a FIFO named outright would block the search
        raise ToolFailure(f"{display(raw)} is not a regular file or directory")
    excluded = [str(p.relative_to(root)) for p in ws.private if p.is_relative_to(root) and p != root]
    argv = command(rg, pattern, root, glob=glob, ignore_case=ignore_case, excluded=excluded)
    try:
        with sandbox.reader(ws, rg) as confine:
            outcome = subproc.run(argv, cwd=str(ws.cwd), env={"PATH": os.environ.get("PATH", "")},
                                  timeout=TIMEOUT, keep=OUTPUT_CAP, limit=OUTPUT_CAP, merge_stderr=False,
                                  preexec=confine)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolFailure(f"cannot run ripgrep: {exc}") from None
    if outcome.returncode == 2 and not outcome.head:
        err = outcome.stderr.decode("utf-8", errors="replace").strip()
        if "regex" in err:
            raise ToolFailure(f"bad regular expression: {err[:800]}")
        raise ToolFailure(f"search failed: {err[:800] or 'ripgrep exited with status 2'}")
    hits = _parse(ws, outcome.head)
    note = ""
    if outcome.timed_out:
        note = f"\n[search stopped after {TIMEOUT:g} s; narrow the path or the pattern]"
    elif outcome.flooded or len(hits) > MAX_MATCHES:
        note = f"\n[more than {MAX_MATCHES} matches; narrow the search]"
    if not hits:
        return "(no matches)" + note
    return "\n".join(hits[:MAX_MATCHES]) + note


def _parse(ws: Workspace, data: bytes) -> list[str]:
    """``path\\0line:text`` records (ripgrep's ``--null`` output), each hit checked again."""
    hits: list[str] = []
    allowed: dict[str, bool] = {}
    pos = 0
    while len(hits) <= MAX_MATCHES:
        nul = data.find(b"\0", pos)
        end = data.find(b"\n", nul + 1) if nul >= 0 else -1
        if nul < 0 or end < 0:
            break
        printed = os.fsdecode(data[pos:nul])
        number, _, text = data[nul + 1:end].partition(b":")
        pos = end + 1
        if printed not in allowed:
            real = Path(os.path.realpath(_hit_path(printed)))
            allowed[printed] = ws.allows(real)
        if not allowed[printed]:
            continue
        line = text.decode("utf-8", errors="replace")[:MAX_LINE_CHARS]
        hits.append(f"{ws.show(_hit_path(printed))}:{number.decode('ascii', 'replace')}:{line}")
    return hits
