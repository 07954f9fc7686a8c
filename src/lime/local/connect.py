"""Turn the catalog's managed-local route into a real endpoint: start or reuse the server, then
describe the model as the server does (its real window and template capabilities).

``LocalEndpoint`` hands this to the runtime as hooks (``lime.runtime.setup.Endpoint``): the agent
calls them before each request and after a connection error, without importing this package.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from lime.catalog.entries import ModelEntry
from lime.catalog.routing import Route, capabilities_for
from lime.local import paths
from lime.local.paths import INSTALL_HINT, local_available
from lime.storage import locked


def activate(route: Route) -> Route:
    """``route`` with base URL, key, capabilities and window of a live local server.

    Routes that are not managed-local pass through unchanged, so callers may call this on any
    route before a conversation. Discovery is cached in the server's state file: only the run
    that started the server pays for it.
    """
    if not route.managed_local:
        return route
    # The server manager (subprocess, http.client...) loads only for routes to lime's own server:
    # every chat start-up builds a LocalEndpoint, and most never need it.
    from lime.local import manager

    info = manager.ensure_server()
    manager.register_client()
    found = info.discovery
    if found is None:
        from lime.providers.openai_compat.discovery import discover

        found = discover(info.base_url, info.api_key, model=info.alias)
        if found is not None:
            with locked(manager.state_path()):
                manager.cache_discovery(info, found)
    entry = route.entry
    changes: dict[str, object] = {"api_id": info.alias}
    if info.model.name != paths.DEFAULT_GGUF_NAME:
        changes.update(display_name=f"{info.alias} (local)", description=f"Local GGUF {info.model}")
    entry = dataclasses.replace(entry, **changes)  # type: ignore[arg-type]
    if found is not None:
        entry, caps = found.apply(entry, route.preset)
    else:
        entry = with_window(entry, info.n_ctx)
        caps = capabilities_for(entry, route.preset)
    return route.with_endpoint(info.base_url, info.api_key, caps, entry)


def with_window(entry: ModelEntry, window: int) -> ModelEntry:
    """The entry with another context window and the limits that derive from it recomputed."""
    if window == entry.context_window:
        return entry
    return dataclasses.replace(entry, context_window=window, max_output=0, upper_max_output=0, auto_compact=0)


class LocalEndpoint:
    """Endpoint hooks for lime's own server: start it before a request when it is not running, and
    start it again after it stopped answering. Routes of other services pass through untouched."""

    setup_hint = INSTALL_HINT

    def __init__(self, notice: Callable[[str], None] | None = None) -> None:
        self.notice = notice or (lambda _text: None)

    def available(self) -> bool:
        return local_available()

    def prepare(self, route: Route) -> Route:
        if not route.managed_local:
            return route
        fresh = activate(route)
        if route.base_url is None:
            return fresh
        if (fresh.base_url, fresh.api_key) == (route.base_url, route.api_key):
            return route
        self.notice("the local server had stopped; started it again")
        return fresh

    def recover(self, error: Exception, route: Route) -> Route | None:
        if not route.managed_local:
            return None
        self.notice("the local server stopped answering; started it again")
        return activate(route)
