"""`lime login` / `lime logout`: credential buckets, keys from stdin only."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lime.cli.common import check_base_url, check_service_name, check_text, warn
from lime.errors import ConfigError, UsageError

LOGIN_PROVIDERS = ("openai", "anthropic", "gemini", "openai-compat")


def register(sub: Any) -> None:
    login = sub.add_parser(
        "login", help="store an API key (read from stdin) for a service",
        description="Store a key for a service in its own bucket (openai_compat:NAME). The key is read from "
        "standard input (hidden prompt on a terminal), never from the command line.",
    )
    _common(login)
    login.add_argument("--with-api-key", action="store_true", help="read the API key from stdin")
    login.add_argument("--with-base-url", metavar="URL", help="base URL (default: the preset's); a query string "
                       "such as ?api-version=... is kept on every request")
    login.add_argument("--key-env", metavar="VAR", help="read the key from environment variable VAR at each "
                       "request (nothing stored); OPENAI_API_KEY goes to a service only when named here")
    login.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'",
                       help="an extra header on every request (repeatable); ${ENV_VAR} in the value is read "
                       "from the environment at request time. Stored like a key, shown masked")
    login.add_argument("--auth-header", metavar="NAME",
                       help="send the key as 'NAME: KEY' (e.g. api-key for Azure) instead of "
                       "'Authorization: Bearer KEY'")
    login.set_defaults(handler=run_login)
    logout = sub.add_parser("logout", help="remove a service's stored credential")
    _common(logout)
    logout.set_defaults(handler=run_logout)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--provider", required=True, metavar="PROVIDER", help="openai, anthropic, gemini or openai-compat")
    p.add_argument("--service", metavar="NAME", help="service name: a preset id (groq, mistral, ...) or your own")


def _service_from(args: argparse.Namespace) -> str:
    provider = check_text("--provider", args.provider).strip()
    if provider not in LOGIN_PROVIDERS:
        raise UsageError(f"unknown provider {provider!r}: use one of {', '.join(LOGIN_PROVIDERS)}")
    if provider != "openai-compat":
        if args.service is not None:
            raise UsageError("--service is only accepted with --provider openai-compat")
        return provider
    if not args.service:
        raise UsageError("--service NAME is required with --provider openai-compat")
    return check_service_name(check_text("--service", args.service))


def _read_key() -> str:
    from lime.auth.store import key_problem

    if sys.stdin is None:
        raise UsageError("no standard input to read the API key from")
    if sys.stdin.isatty():
        import getpass

        key = check_text("the API key", getpass.getpass("API key: "))
    else:
        raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        try:
            key = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError("the API key on standard input is not valid UTF-8 text") from None
    key = key.strip()
    if not key:
        raise UsageError("empty API key on standard input")
    problem = key_problem(key)
    if problem:
        raise UsageError(f"refused the API key: {problem}; pipe exactly one key")
    return key


def run_login(args: argparse.Namespace) -> int:
    from lime.auth import store
    from lime.auth.masking import mask_key
    from lime.auth.resolve import plain_http_warning
    from lime.catalog.presets import get_preset

    service = _service_from(args)
    preset = get_preset(service)
    base_url = check_base_url(args.with_base_url) if args.with_base_url else None
    key_env = None
    if args.key_env is not None:
        try:
            key_env = store.check_env_name(check_text("--key-env", args.key_env).strip())
        except ConfigError as exc:
            raise UsageError(f"--key-env: {exc}") from None
        if args.with_api_key:
            raise UsageError("use either --with-api-key (store a key) or --key-env VAR (read it from VAR), not both")
    if preset is None and base_url is None:
        raise UsageError(
            f"service {service!r} is not a preset; give its endpoint with --with-base-url URL "
            "(a login replaces the service's stored URL, key and headers)"
        )
    if preset is not None and preset.discover:
        raise UsageError(f"service {service!r} is lime's managed local server; it needs no login")
    headers, auth_header = _headers_from(args)
    if not args.with_api_key and base_url is None and key_env is None and not headers:
        raise UsageError("nothing to store: pass --with-api-key (key on stdin), --key-env VAR and/or --with-base-url URL")
    key = _read_key() if args.with_api_key else ""
    bucket = store.bucket_name(service)
    url = base_url or (preset.base_url if preset else "")
    store.put(bucket, key, base_url, key_env=key_env, headers=headers, auth_header=auth_header)
    if key_env:
        shown = f"the key source {key_env} (read at each request)"
    else:
        shown = mask_key(key) if key else "no key"
    print(f"Stored {shown} in {bucket} ({url})")
    if headers or auth_header:
        from lime.auth.headers import describe

        print(f"Headers: {describe(headers, auth_header)}")
    warning = plain_http_warning(url, bool(key or key_env))
    if warning:
        warn(warning)
    return 0


def _headers_from(args: argparse.Namespace) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """--header and --auth-header, checked: no duplicates, and no header that would clash with the key."""
    from lime.auth.headers import HeaderError, check_name, parse

    try:
        headers = [parse(spec) for spec in args.header]
        auth_header = check_name(args.auth_header) if args.auth_header else None
    except HeaderError as exc:
        raise UsageError(str(exc)) from None
    seen: set[str] = set()
    for name, _ in headers:
        if name.lower() in seen:
            raise UsageError(f"header {name!r} is given twice")
        seen.add(name.lower())
    has_key = args.with_api_key or args.key_env is not None
    if auth_header and not has_key:
        raise UsageError("--auth-header names where the key goes; pass --with-api-key or --key-env VAR too")
    key_header = (auth_header or "Authorization").lower()
    if has_key and key_header in seen:
        raise UsageError(f"header {key_header!r} would carry the key; drop it from --header "
                         "(or send the key elsewhere with --auth-header NAME)")
    return tuple(headers), auth_header


def run_logout(args: argparse.Namespace) -> int:
    from lime.auth import store

    service = _service_from(args)
    bucket = store.bucket_name(service)
    if not store.remove(bucket):
        raise UsageError(f"no stored credential in {bucket}")
    print(f"Removed {bucket}")
    return 0
