"""The OpenAI-compatible Chat Completions provider.

``ChatClient`` / ``AsyncChatClient`` (client.py) talk to one route; ``ProviderError`` and
``ContextOverflowError`` (errors.py) are what they raise. Importing this package is cheap: the HTTP
client loads when the first request is made.

client.py holds one sans-IO request flow and the sync and async drivers that carry it out;
request.py builds bodies, sse.py and stream.py turn a response into events, errors.py and
shapes.py say what went wrong, quirks.py lists how servers differ (as data), httplib.py loads httpx.
May import: the layers below it (tokens, catalog, auth, config, storage, the leaf modules such as
urls and jsonguard, errors); never runtime, local or cli. A route is typed by the ``ChatRoute``
protocol (types.py), not by the catalog's class.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AsyncChatClient", "ChatClient", "ContextOverflowError", "ProviderError"]


def __getattr__(name: str) -> Any:
    if name in ("ChatClient", "AsyncChatClient"):
        from lime.providers.openai_compat import client

        return getattr(client, name)
    if name in ("ProviderError", "ContextOverflowError"):
        from lime.providers.openai_compat import errors

        return getattr(errors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
