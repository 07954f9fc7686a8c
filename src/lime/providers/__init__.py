"""Transports to LLM services.

May import: tokens, catalog, auth, config, storage, errors and the leaf modules. Never runtime,
local or cli.
"""

from typing import Any

WIRES = {"anthropic": "lime.providers.wires.anthropic", "responses": "lime.providers.wires.responses",
         "gemini": "lime.providers.wires.gemini"}


def wire_name(route: Any) -> str:
    """The wire a route speaks: the provider of its catalog entry (Chat Completions for the rest)."""
    provider = getattr(getattr(route, "entry", None), "provider", None)
    return {"anthropic": "anthropic", "openai": "responses", "gemini": "gemini"}.get(str(provider), "chat")


def wire_for(route: Any) -> Any:
    """The wire object for a route's provider; None for Chat Completions (the clients' default)."""
    name = wire_name(route)
    if name == "chat":
        return None
    from importlib import import_module

    return import_module(WIRES[name]).WIRE


def open_client(route: Any, **kw: Any) -> Any:
    """The synchronous client for a route, on the wire its provider speaks (imported only when used)."""
    from lime.providers.openai_compat.client import ChatClient

    return ChatClient(route, wire=wire_for(route), **kw)
