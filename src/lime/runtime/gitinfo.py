"""The git branch, the commit, and whether the work tree has changes, read from ``.git`` without
running git.

The system prompt's environment block names the branch and changes at every session start:
spawning ``git`` costs tens of milliseconds, reading ``HEAD`` and the index (``gitindex``) costs
well under ten. "Changed" means a tracked file whose size or modification time differs from what
the index recorded, or that is gone (what ``git status`` would call modified or deleted, found the
way git finds them before it hashes); untracked files and staged-only changes are not counted.
The check stops at its time budget (reading the index included), and a split index is not
checked: the answer is then "unknown". Stdlib only.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from lime.runtime import gitindex

BUDGET_S = 0.006


@dataclass(frozen=True)
class GitState:
    """What the environment block says of the repository: the branch, and whether files changed."""

    branch: str  # "main", or "detached at 1a2b3c4"
    dirty: bool | None  # None: not known (an index lime cannot read, or too large to check in time)


def _head(gd: Path) -> str | None:
    try:
        return (gd / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def state(root: Path) -> GitState | None:
    """The branch and dirtiness of the repository whose work tree is ``root``; None outside git."""
    gd = gitindex.git_dir(root)
    head = _head(gd) if gd is not None else None
    if head is None:
        return None
    if head.startswith("ref:"):
        branch = head[4:].strip().removeprefix("refs/heads/")
    else:
        branch = f"detached at {head[:7]}"
    return GitState(branch, _dirty(root))


def _dirty(root: Path) -> bool | None:
    deadline = time.perf_counter() + BUDGET_S
    try:
        loaded = gitindex.load(root)
        if loaded is None:
            return False  # a fresh repository: nothing tracked yet
        data, hash_size = loaded
        if b"link" in data:
            return None  # a split index: most entries live elsewhere
        base = os.fsencode(root) + b"/"
        for path, mtime, size in gitindex.walk(data, hash_size):
            if path.endswith(b"/"):
                continue  # a sparse index's directory entry
            try:
                st = os.lstat(base + path)
            except OSError:
                return True  # deleted
            if st.st_size & 0xFFFFFFFF != size or int(st.st_mtime) & 0xFFFFFFFF != mtime:
                return True
            if time.perf_counter() > deadline:
                return None
    except gitindex.Unknown:
        return None
    return False


def commit(root: Path) -> str | None:
    """The commit ``HEAD`` names (loose ref, then packed-refs), without running git; None if unknown."""
    gd = gitindex.git_dir(root)
    head = _head(gd) if gd is not None else None
    if gd is None or head is None:
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
