"""The OpenAI-compatible Chat Completions provider.

``ChatClient`` / ``AsyncChatClient`` (client.py) talk to one route; ``ProviderError`` and
``ContextOverflowError`` (errors.py) are what they raise. Importing this package is cheap: the HTTP
client loads when the first request is made.
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
