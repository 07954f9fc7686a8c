"""httpx, imported without its command-line client.

``httpx/__init__`` ends with ``try: from ._main import main`` / ``except ImportError``: ``_main`` is
the ``httpx`` console command, and whenever click is installed it imports click, pygments and rich
(measured: httpx takes 1.5x as long to import with it). lime never runs that command, so while httpx
loads its ``_main`` is marked absent (a ``None`` entry in ``sys.modules`` makes that import raise
ImportError, and httpx defines a stub ``main`` instead); the mark is removed afterwards, so code
that wants the command can still import it. Import ``httpx`` from here, never directly.
"""

from __future__ import annotations

import sys
from typing import Any


def _load_without_cli() -> None:
    if "httpx" in sys.modules:
        return
    mark = "httpx._main" not in sys.modules
    if mark:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        import httpx  # noqa: F401
    finally:
        if mark and "httpx._main" in sys.modules and sys.modules["httpx._main"] is None:
            del sys.modules["httpx._main"]


def _ascii_hosts_skip_idna() -> None:
    """Connect to an ASCII host name without loading the ``idna`` codec.

    ``socket.getaddrinfo`` encodes every host given as text with the ``idna`` codec, and loading
    that codec (``encodings.idna`` with ``stringprep`` and ``unicodedata``) costs ~6 ms: more than
    a request to a local server. For an ASCII name the codec only checks label lengths and returns
    the bytes (its own fast path, repeated here); anything else, decoding and the incremental
    codecs go to the real codec, loaded then. Entered in ``encodings``' cache, which its search
    function reads first, so ``codecs.lookup("idna")`` finds it; nothing happens when the codec is
    already loaded or that cache is not there."""
    import codecs
    import encodings

    cache = getattr(encodings, "_cache", None)
    if not isinstance(cache, dict) or "idna" in cache or "encodings.idna" in sys.modules:
        return

    def real() -> codecs.CodecInfo:
        from encodings import idna

        return idna.getregentry()

    def encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
        if errors == "strict" and text.isascii():
            data = text.encode("ascii")
            labels = data.split(b".")
            if all(0 < len(label) < 64 for label in labels[:-1]) and len(labels[-1]) < 64:
                return data, len(text)
        return real().encode(text, errors)

    def decode(data: Any, errors: str = "strict") -> tuple[str, int]:
        return real().decode(data, errors)

    def lazy(attr: str) -> Any:
        return lambda *a, **k: getattr(real(), attr)(*a, **k)

    cache["idna"] = codecs.CodecInfo(encode, decode, name="idna", incrementalencoder=lazy("incrementalencoder"),
                                     incrementaldecoder=lazy("incrementaldecoder"),
                                     streamreader=lazy("streamreader"), streamwriter=lazy("streamwriter"))


_ascii_hosts_skip_idna()
_load_without_cli()

import httpx  # noqa: E402

__all__ = ["httpx"]
