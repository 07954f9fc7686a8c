"""The git branch and whether the work tree has changes, read from ``.git`` without running git.

The system prompt's environment block names both, and it is built at every session start: spawning
``git`` twice costs tens of milliseconds, reading ``HEAD`` and the index costs well under ten.
"Changed" means a tracked file whose size or modification time differs from what the index
recorded, or that is gone (what ``git status`` would call modified or deleted, found the way git
finds them before it hashes); untracked files and staged-only changes are not counted. A large
index is read only for as long as the time budget allows; past it the answer is "unknown".
Stdlib only.
"""

from __future__ import annotations

import contextlib
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path

MAX_INDEX_BYTES = 64 << 20
BUDGET_S = 0.006


@dataclass(frozen=True)
class GitState:
    branch: str  # "main", or "detached at 1a2b3c4"
    dirty: bool | None  # None: not known (an index lime cannot read, or too large to check in time)


def git_dir(root: Path) -> Path | None:
    """``root/.git``, or the directory a ``gitdir:`` file (worktrees, submodules) points to."""
    dot = root / ".git"
    if dot.is_dir():
        return dot
    try:
        text = dot.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if text.startswith("gitdir:"):
        target = Path(text[len("gitdir:"):].strip())
        target = target if target.is_absolute() else root / target
        return target if target.is_dir() else None
    return None


def state(root: Path) -> GitState | None:
    """The branch and dirtiness of the repository whose work tree is ``root``; None outside git."""
    gd = git_dir(root)
    if gd is None:
        return None
    try:
        head = (gd / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    if head.startswith("ref:"):
        ref = head[4:].strip()
        branch = ref.removeprefix("refs/heads/")
    else:
        branch = f"detached at {head[:7]}"
    return GitState(branch, _dirty(root, gd / "index"))


def _dirty(root: Path, index: Path) -> bool | None:
    try:
        with index.open("rb") as fh:
            data = fh.read(MAX_INDEX_BYTES + 1)
    except FileNotFoundError:
        return False  # a fresh repository: nothing tracked yet
    except OSError:
        return None
    if len(data) > MAX_INDEX_BYTES or len(data) < 12 or data[:4] != b"DIRC":
        return None
    version, count = struct.unpack(">II", data[4:12])
    if version not in (2, 3, 4):
        return None
    deadline = time.perf_counter() + BUDGET_S
    pos, prev = 12, b""
    base = os.fsencode(root)
    try:
        for _ in range(count):
            mtime_s, _mtime_ns = struct.unpack(">II", data[pos + 8:pos + 16])
            size = struct.unpack(">I", data[pos + 36:pos + 40])[0]
            flags = struct.unpack(">H", data[pos + 60:pos + 62])[0]
            cursor = pos + 62 + (2 if version >= 3 and flags & 0x4000 else 0)
            if version == 4:  # the path is the previous one, shortened, plus a suffix
                byte = data[cursor]
                cursor += 1
                strip = byte & 0x7F
                while byte & 0x80:  # git's offset varint: big-endian groups of 7 bits, each +1
                    byte = data[cursor]
                    cursor += 1
                    strip = ((strip + 1) << 7) | (byte & 0x7F)
                end = data.index(b"\0", cursor)
                path = prev[:len(prev) - strip] + data[cursor:end]
                pos = end + 1
            else:
                end = data.index(b"\0", cursor)
                path = data[cursor:end]
                pos += (end - pos + 8) & ~7  # entries are NUL-padded to a multiple of 8 bytes
            prev = path
            try:
                st = os.lstat(base + b"/" + path)
            except OSError:
                return True  # deleted
            if st.st_size & 0xFFFFFFFF != size or int(st.st_mtime) != mtime_s:
                return True
            if time.perf_counter() > deadline:
                return None
    except (struct.error, ValueError, IndexError):
        return None
    return False


def commit(root: Path) -> str | None:
    """The commit ``HEAD`` names (loose ref, then packed-refs), without running git; None if unknown."""
    gd = git_dir(root)
    if gd is None:
        return None
    try:
        head = (gd / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    if not head.startswith("ref:"):
        return head if _is_sha(head) else None
    ref = head[4:].strip()
    common = gd
    with contextlib.suppress(OSError):  # a linked worktree keeps its branches in the main repository
        common = (gd / (gd / "commondir").read_text(encoding="utf-8").strip()).resolve()
    for base in dict.fromkeys((gd, common)):
        try:
            sha = (base / ref).read_text(encoding="utf-8", errors="replace").strip()
            if _is_sha(sha):
                return sha
        except OSError:
            pass
        try:
            packed = (base / "packed-refs").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in packed.splitlines():
            sha, _, name = line.partition(" ")
            if name.strip() == ref and _is_sha(sha):
                return sha
    return None


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)
