"""The "how to log in" hint, in one place: every error and notice that tells the user to store a
key (a missing key, an HTTP 401, ``lime status``, a service without an endpoint) words it so."""

from __future__ import annotations


def login_hint(service: str | None = None, *, base_url: bool | str = False) -> str:
    """The ``lime login`` command that stores a key for ``service`` (None: any hosted service,
    spelled ``NAME``); ``base_url``: the service also needs its endpoint given (True: spelled
    ``URL``; a string: that endpoint, which a login must repeat since it replaces the stored one)."""
    url = f" --with-base-url {base_url if isinstance(base_url, str) else 'URL'}" if base_url else ""
    if service in ("openai", "anthropic", "gemini"):  # the providers with their own API and login
        return f"lime login --provider {service} --with-api-key{url}"
    return f"lime login --provider openai-compat --service {service or 'NAME'} --with-api-key{url}"
