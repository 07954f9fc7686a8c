"""Which paths git tracks, read straight from ``.git/index`` (formats 2, 3 and 4; no git process).

A file a repository checks in is the repository's word, not this machine's: a
``.lime/settings.local.json`` that git tracks came with the clone and is read as project
settings. Asking ``git ls-files`` would run a program the repository configures (``core.fsmonitor``
and friends), so lime reads the index itself. The format (gitformat-index): a ``DIRC`` header with
version and entry count; per entry 40 bytes of stat data, the object id (20 bytes, 32 for
sha256 repositories), 2 bytes of flags (+2 extended flags in v3+ when bit 0x4000 is set), then
the path: NUL-terminated and padded to a multiple of 8 (v2, v3) or prefix-compressed against the
previous path (v4: a varint of bytes to drop, then the NUL-terminated rest). A split index
("link" extension) keeps most entries in ``sharedindex.<id>``, which is read too; a sparse
index's directory entries (``dir/``) and submodules (gitlinks: a ``.lime`` that is another
repository) count for every path below them.

Anything lime cannot read as an index is ``Unknown``: the caller treats the path as tracked
(the safe side). Stdlib only.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

MAX_INDEX_BYTES = 256 << 20  # a repository of a million files has an index of ~100 MB
_HEADER = struct.Struct(">4sII")
_STAT = 40  # ctime, mtime (8 each), dev, ino, mode, uid, gid, size (4 each)


class Unknown(Exception):
    """The index exists but is not one lime can read; the message says why."""


def git_dir(root: Path) -> Path | None:
    """``root/.git``, following a ``gitdir:`` file (worktrees, submodules); None outside git."""
    dot = root / ".git"
    if dot.is_dir():
        return dot
    if not dot.is_file():
        return None
    try:
        with dot.open("rb") as fh:
            first = fh.read(4096).decode("utf-8", "replace").splitlines()[:1]
    except OSError:
        return None
    if not first or not first[0].startswith("gitdir:"):
        return None
    target = Path(first[0][len("gitdir:"):].strip())
    return target if target.is_absolute() else (root / target)


def _hash_size(gitdir: Path) -> int:
    """20 for sha1 repositories, 32 for ``extensions.objectFormat = sha256``."""
    for cfg in (gitdir / "config", gitdir / "commondir"):
        try:
            text = cfg.read_text("utf-8", "replace")[:65536]
        except OSError:
            continue
        if cfg.name == "commondir":  # a worktree: the shared config lives in the common dir
            common = Path(text.strip())
            return _hash_size(common if common.is_absolute() else gitdir / common) if text.strip() else 20
        if re.search(r"^\s*objectformat\s*=\s*sha256\s*$", text, re.I | re.M):
            return 32
    return 20


def _read(path: Path) -> bytes | None:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_INDEX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Unknown(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_INDEX_BYTES:
        raise Unknown(f"{path} is larger than {MAX_INDEX_BYTES >> 20} MiB")
    return data


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """git's offset varint (as in pack files): 7 bits a byte, +1 per continuation."""
    byte = data[pos]
    pos += 1
    value = byte & 0x7F
    while byte & 0x80:
        if pos >= len(data) or value > 1 << 32:
            raise Unknown("a path length in the index is malformed")
        byte = data[pos]
        pos += 1
        value = ((value + 1) << 7) | (byte & 0x7F)
    return value, pos


def _header(data: bytes, hash_size: int) -> tuple[int, int]:
    if len(data) < _HEADER.size + hash_size:
        raise Unknown("the index is truncated")
    sig, version, count = _HEADER.unpack_from(data)
    if sig != b"DIRC":
        raise Unknown("the index has no DIRC signature")
    if version not in (2, 3, 4):
        raise Unknown(f"index version {version} is not one lime reads (2 to 4)")
    if count > len(data) // (_STAT + hash_size + 3):
        raise Unknown("the index claims more entries than it can hold")
    return version, count


def count(data: bytes, hash_size: int = 20) -> int:
    """How many entries the index holds (from its header)."""
    return _header(data, hash_size)[1]


def walk(data: bytes, hash_size: int = 20, end_at: list[int] | None = None) -> Iterator[tuple[bytes, int, int]]:
    """Each entry's (path, recorded mtime in seconds, recorded size), in index order, parsed only as
    far as the caller reads; ``end_at`` receives the offset where the extensions start."""
    version, count = _header(data, hash_size)
    end = len(data) - hash_size  # the trailing checksum
    pos = _HEADER.size
    prev = b""
    flags_at = _STAT + hash_size
    try:
        for _ in range(count):
            start = pos
            mtime, size = struct.unpack_from(">I", data, pos + 8)[0], struct.unpack_from(">I", data, pos + 36)[0]
            (flags,) = struct.unpack_from(">H", data, pos + flags_at)
            pos += flags_at + 2
            if flags & 0x4000:
                if version < 3:
                    raise Unknown("an extended entry in a version 2 index")
                pos += 2
            if version == 4:
                drop, pos = _varint(data, pos)
                nul = data.index(b"\0", pos, end)
                if drop > len(prev):
                    raise Unknown("a path in the index drops more than the previous path holds")
                path = prev[: len(prev) - drop] + data[pos:nul]
                pos = nul + 1
            else:
                nul = data.index(b"\0", pos, end)
                path = data[pos:nul]
                pos = start + ((nul - start) // 8 + 1) * 8  # 1 to 8 NULs pad the entry to a multiple of 8
            if pos > end:
                raise Unknown("the index is truncated")
            prev = path
            yield path, mtime, size
    except (struct.error, ValueError, IndexError):
        raise Unknown("the index is truncated or malformed") from None
    if end_at is not None:
        end_at.append(pos)


def entries(data: bytes, hash_size: int = 20, *, until: bytes | None = None) -> tuple[list[bytes], int]:
    """Every path in an index, and the offset where its extensions start. With ``until``, stops at
    the first path sorting after it (git keeps entries sorted by path bytes); the offset is then -1."""
    paths: list[bytes] = []
    end_at: list[int] = []
    for path, _mtime, _size in walk(data, hash_size, end_at):
        paths.append(path)
        if until is not None and path > until:
            return paths, -1
    return paths, end_at[0]


def _shared_index(data: bytes, ext_at: int, hash_size: int) -> str | None:
    """The object id named by a split index's ``link`` extension, if any."""
    pos, end = ext_at, len(data) - hash_size
    while pos + 8 <= end:
        sig = data[pos:pos + 4]
        (size,) = struct.unpack_from(">I", data, pos + 4)
        if sig == b"link" and size >= hash_size:
            return data[pos + 8:pos + 8 + hash_size].hex()
        pos += 8 + size
    return None


def load(root: Path) -> tuple[bytes, int] | None:
    """The index of the work tree ``root`` and its hash size; None outside git or before the first
    ``git add``. Raises ``Unknown`` when there is an index lime cannot read."""
    gitdir = git_dir(root)
    if gitdir is None:
        return None
    data = _read(gitdir / "index")
    return None if data is None else (data, _hash_size(gitdir))


def tracked(root: Path, paths: Iterable[str]) -> set[str]:
    """The ones among ``paths`` (relative to the work tree ``root``, ``/``-separated) that the
    index holds. Raises ``Unknown`` when there is an index lime cannot read."""
    wanted = {p: p.encode("utf-8", "surrogateescape") for p in paths}
    gitdir = git_dir(root)
    if gitdir is None or not wanted:
        return set()
    data = _read(gitdir / "index")
    if data is None:
        return set()  # no index yet (a fresh `git init`): nothing is tracked
    hash_size = _hash_size(gitdir)
    found: set[str] = set()
    split = b"link" in data
    listed, ext_at = entries(data, hash_size, until=None if split else max(wanted.values()))
    shared = _shared_index(data, ext_at, hash_size) if split else None
    if shared is not None and shared.strip("0"):
        more = _read(gitdir / f"sharedindex.{shared}")
        if more is None:
            raise Unknown(f"the split index names sharedindex.{shared}, which is missing")
        listed += entries(more, hash_size)[0]
    have = set(listed)
    for name, raw in wanted.items():
        parts = raw.split(b"/")
        above = [b"/".join(parts[:k]) for k in range(1, len(parts))]
        # The path itself; a folder above it that is a submodule (a gitlink entry: what is below it
        # came from another repository) or a sparse-index directory entry ("dir/").
        if raw in have or any(a in have or a + b"/" in have for a in above):
            found.add(name)
    return found


def relative(root: Path, path: Path) -> str | None:
    """``path`` as the index spells it (relative to ``root``, ``/``-separated); None outside root."""
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        return None
    if rel == os.curdir or rel.startswith(os.pardir):
        return None
    return rel.replace(os.sep, "/")
