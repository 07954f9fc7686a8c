"""The "how to log in" hint, in one place: every error and notice that tells the user to store a
key (a missing key, an HTTP 401, ``lime status``, a service without an endpoint) words it so."""

from __future__ import annotations


def login_hint(service: str | None = None, *, base_url: bool = False) -> str:
    """The ``lime login`` command that stores a key for ``service`` (None: any hosted service,
    spelled ``NAME``); ``base_url``: the service also needs its endpoint given."""
    if service in ("openai", "anthropic", "gemini"):  # the providers with their own API and login
        return f"lime login --provider {service} --with-api-key" + (" --with-base-url URL" if base_url else "")
    return (f"lime login --provider openai-compat --service {service or 'NAME'} --with-api-key"
            + (" --with-base-url URL" if base_url else ""))
