"""``@path`` mentions in a prompt: files (``@file:10-40`` for lines), directories, images.

A mention is read through the workspace like a ``read_file`` call, so the same rules hold: paths
outside the workspace and ``--add-dir`` roots, the config home and read-denied files are refused,
as are over-large and binary files. Text goes after the prompt as a fenced attachment; images
(PNG, JPEG, GIF, WebP) become image parts for models that take images (scaled down to 2048 px
and 5 MB where Pillow is installed), and a clear refusal for the others. All attachments of one prompt share a budget of a quarter of the model's window.
"""

from __future__ import annotations

import base64
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lime.errors import LimeError, UsageError

if TYPE_CHECKING:
    from lime.runtime.workspace import Workspace

# ``@`` at the start or after a space; a path without spaces; an optional ``:START-END``.
MENTION = re.compile(r"(?:(?<=\s)|^)@((?:[^\s:]|:(?!\d+(?:-\d*)?(?:\s|$)))+)(?::(\d+)(?:-(\d*))?)?(?=\s|$)")
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".webp": "image/webp"}
MAX_TEXT_BYTES = 2_000_000
MAX_IMAGE_BYTES = 5_000_000  # what the strictest of the big services accepts per image
MAX_IMAGE_INPUT = 30_000_000  # a larger file is refused before it is read
MAX_SIDE = 2048  # longer sides are scaled down (the services scale larger images down themselves)
MAX_LISTING = 200


class MentionError(LimeError):
    """A mentioned file that cannot be attached."""


@dataclass
class Attached:
    text: str  # the prompt with its attachments after it
    images: list[dict[str, Any]] = field(default_factory=list)  # image_url parts
    names: list[str] = field(default_factory=list)  # what was attached, for a notice


def _image_type(data: bytes, suffix: str) -> str | None:
    """The image's type from its first bytes (the name alone can lie)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_part(ws: Workspace, raw: str) -> dict[str, Any]:
    from lime.runtime.workspace import ToolFailure

    try:
        path = ws.resolve(raw, must_exist=True)
        data = ws.read_bytes(path, MAX_IMAGE_INPUT, raw=raw)
    except ToolFailure as exc:
        raise MentionError(f"@{raw}: {exc}") from None
    kind = _image_type(data, path.suffix.lower())
    if kind is None:
        raise MentionError(f"@{raw} is not a PNG, JPEG, GIF or WebP image")
    data, kind = _fit(raw, data, kind)
    return {"type": "image_url", "image_url": {"url": f"data:{kind};base64,{base64.b64encode(data).decode()}"}}


def _fit(raw: str, data: bytes, kind: str) -> tuple[bytes, str]:
    """The image scaled down to ``MAX_SIDE`` and ``MAX_IMAGE_BYTES`` where Pillow is installed;
    without it an image over the byte cap is refused (a large side is left to the service)."""
    try:
        from PIL import Image
    except ImportError:
        if len(data) > MAX_IMAGE_BYTES:
            raise MentionError(f"@{raw} is {len(data) / 1e6:.1f} MB, over the {MAX_IMAGE_BYTES // 1_000_000} MB an "
                               "image may be; install Pillow (pip install pillow) to have lime scale it down") from None
        return data, kind
    import io

    try:
        with Image.open(io.BytesIO(data)) as img:
            if max(img.size) <= MAX_SIDE and len(data) <= MAX_IMAGE_BYTES:
                return data, kind
            img.thumbnail((MAX_SIDE, MAX_SIDE))
            out_kind = "image/jpeg" if kind == "image/jpeg" else "image/png"
            frame = img.convert("RGB") if out_kind == "image/jpeg" else img.convert("RGBA")
            for quality in (90, 75, 60):
                buf = io.BytesIO()
                frame.save(buf, "JPEG" if out_kind == "image/jpeg" else "PNG", quality=quality, optimize=True)
                if buf.tell() <= MAX_IMAGE_BYTES:
                    return buf.getvalue(), out_kind
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise MentionError(f"@{raw}: cannot read the image ({exc})") from None
    raise MentionError(f"@{raw} stays over {MAX_IMAGE_BYTES // 1_000_000} MB even scaled down")


def _listing(ws: Workspace, path: Path, raw: str) -> str:
    names = []
    try:
        with os.scandir(path) as it:
            for entry in it:
                names.append(entry.name + ("/" if entry.is_dir(follow_symlinks=False) else ""))
    except OSError as exc:
        raise MentionError(f"cannot list @{raw}: {exc.strerror or exc}") from None
    names.sort()
    more = len(names) - MAX_LISTING
    body = "\n".join(names[:MAX_LISTING]) + (f"\n… and {more} more" if more > 0 else "")
    return f'<directory path="{ws.show(path)}">\n{body}\n</directory>'


def _text(ws: Workspace, raw: str, start: int | None, end: int | None) -> str:
    from lime.runtime.workspace import ToolFailure

    try:
        path = ws.resolve(raw, must_exist=True)
        if stat.S_ISDIR(path.stat().st_mode):
            return _listing(ws, path, raw)
        data = ws.read_bytes(path, MAX_TEXT_BYTES, raw=raw)
    except ToolFailure as exc:
        raise MentionError(f"@{raw}: {exc}") from None
    except OSError as exc:
        raise MentionError(f"@{raw}: {exc.strerror or exc}") from None
    if b"\0" in data[:8192]:
        raise MentionError(f"@{raw} looks like a binary file")
    text = data.decode("utf-8", errors="replace")
    lines = ""
    if start is not None:
        all_lines = text.splitlines(keepends=True)
        last = len(all_lines) if end is None else min(end, len(all_lines))
        if start < 1 or start > max(1, len(all_lines)) or last < start:
            raise MentionError(f"@{raw}:{start}-{end or ''}: no such lines ({len(all_lines)} in the file)")
        text = "".join(all_lines[start - 1:last])
        lines = f' lines="{start}-{last}"'
    return f'<file path="{ws.show(path)}"{lines}>\n{text}{"" if text.endswith(chr(10)) else chr(10)}</file>'


def attach(prompt: str, ws: Workspace, *, vision: bool, model: str, window: int,
           extra_images: tuple[str, ...] = ()) -> Attached:
    """The prompt with every ``@mention`` read and attached; unknown paths are left as typed."""
    out = Attached(prompt)
    blocks: list[str] = []
    image_refs: list[str] = list(extra_images)
    for m in MENTION.finditer(prompt):
        raw = m.group(1)
        start = int(m.group(2)) if m.group(2) else None
        # @f:10 is line 10, @f:10- runs to the end, @f:10-40 is a range.
        end = int(m.group(3)) if m.group(3) else (start if m.group(3) is None else None)
        if not _exists(ws, raw):
            raw = raw.rstrip("?,.;!)'\"")  # "what is in @shot.png?"
            if not raw or not _exists(ws, raw):
                continue  # an e-mail address or a handle, not a path here
        if Path(raw).suffix.lower() in IMAGE_TYPES and start is None:
            image_refs.append(raw)
            continue
        blocks.append(_text(ws, raw, start, end))
        out.names.append(raw)
    if image_refs and not vision:
        raise UsageError(f"{model} does not take images (its catalog entry has no supports_vision); "
                         "choose a vision model with --model or /model")
    for raw in image_refs:
        out.images.append(image_part(ws, raw))
        out.names.append(raw)
    size = sum(len(b) for b in blocks)
    budget = max(4_000, window)  # characters: ~4 a token, so about a quarter of the window
    if size > budget:
        raise MentionError(f"the attached files are ~{size // 4:,} tokens, more than a quarter of {model}'s "
                           f"{window:,}-token window; mention line ranges (@file:10-40) instead")
    if blocks:
        out.text = prompt + "\n\n" + "\n\n".join(blocks)
    return out


def _exists(ws: Workspace, raw: str) -> bool:
    from lime.runtime.workspace import ToolFailure

    try:
        return ws.resolve(raw, must_exist=True) is not None
    except (ToolFailure, LimeError):
        # It exists but is refused: say why when reading (and never what it holds).
        return os.path.lexists(Path(os.path.expanduser(raw)) if os.path.isabs(raw) else Path.cwd() / raw)


def completions(ws_root: Path, word: str, limit: int = 50) -> list[str]:
    """Paths under the working directory that complete ``word`` (what follows an ``@``)."""
    head, _, tail = word.rpartition("/")
    base = (ws_root / head) if head else ws_root
    out = []
    try:
        with os.scandir(base) as it:
            for entry in sorted(it, key=lambda e: e.name):
                if entry.name.startswith(tail) and (tail.startswith(".") or not entry.name.startswith(".")):
                    out.append((f"{head}/" if head else "") + entry.name + ("/" if entry.is_dir() else ""))
                    if len(out) >= limit:
                        break
    except OSError:
        return []
    return out
