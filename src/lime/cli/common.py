"""Small helpers shared by the light CLI commands (no heavy imports here)."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, NoReturn

from lime.errors import UsageError

SERVICE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


_WIDTH: list[int] = []


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: 'lime: error: ...' and exit 2, no usage dump.

    It also measures the terminal once: argparse builds a formatter (and asks the terminal its
    size) for every argument it registers, a measurable part of start-up.
    """

    def _get_formatter(self) -> argparse.HelpFormatter:
        if not _WIDTH:
            import os

            try:
                columns = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size(sys.stdout.fileno()).columns
            except (ValueError, OSError):
                columns = 80
            _WIDTH.append(max(columns - 2, 40))
        return argparse.HelpFormatter(prog=self.prog, width=_WIDTH[0])

    def error(self, message: str) -> NoReturn:
        from lime.textsafe import sanitize

        print(f"lime: error: {sanitize(message)} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(2)


def check_service_name(name: str) -> str:
    name = name.strip()
    if not SERVICE_RE.match(name):
        raise UsageError(
            f"invalid service name {name!r}: use lowercase letters, digits, '.', '_' or '-' (e.g. my-proxy)"
        )
    return name


def check_text(flag: str, value: str) -> str:
    """Command-line text that is not valid UTF-8 (Python keeps such bytes as lone surrogates) is refused."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{flag} is not valid UTF-8 text: {value!r}") from None
    return value


def check_base_url(url: str, flag: str = "--with-base-url") -> str:
    from urllib.parse import urlsplit

    from lime.auth.resolve import userinfo_problem

    url = check_text(flag, url).strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise UsageError(f"{flag}: not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"base URL must be an http:// or https:// URL, got {url!r}")
    problem = userinfo_problem(url)
    if problem:
        raise UsageError(f"{flag} refused: {problem}")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise UsageError(f"{flag}: a URL cannot contain spaces or control characters")
    return url.rstrip("/")


def positive_int(flag: str, raw: Any) -> int | None:
    if raw is None:
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise UsageError(f"{flag} must be a positive integer, got {raw!r}") from None
    if value <= 0:
        raise UsageError(f"{flag} must be a positive integer, got {value}")
    return value


def warn(message: str) -> None:
    from lime.textsafe import sanitize

    print(f"lime: warning: {sanitize(message)}", file=sys.stderr)
