"""lime: one credential store, one model catalog and one conversation runtime for every
OpenAI-compatible LLM service.

The Python API (``lime.complete``, ``lime.stream``, ``lime.Client``, ``lime.AsyncClient``) is
loaded on first use so that importing ``lime`` stays cheap.

The packages form layers, highest first: ``cli`` | ``api``; ``runtime`` | ``local``; ``providers``;
``tokens``; ``catalog``; ``auth``; ``config``; ``storage``; the leaves (``urls``, ``textsafe``,
``jsonguard``, ``version``); ``errors``. A module imports only from layers below its own
(``[tool.importlinter]`` in pyproject.toml; ``lint-imports`` checks it).
"""

from __future__ import annotations

from typing import Any

from lime.version import __version__ as __version__

_API = {"complete", "stream", "acomplete", "astream", "Client", "AsyncClient"}


def __getattr__(name: str) -> Any:
    if name in _API:
        from lime import api

        return getattr(api, name)
    raise AttributeError(f"module 'lime' has no attribute {name!r}")
