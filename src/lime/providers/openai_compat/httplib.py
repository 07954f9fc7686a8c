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


_load_without_cli()

import httpx  # noqa: E402

__all__ = ["httpx"]
