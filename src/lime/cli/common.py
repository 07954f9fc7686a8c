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
        shown = value if len(value) <= 60 else value[:60] + "..."
        raise UsageError(f"{flag} is not valid UTF-8 text: {shown!r}") from None
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


# Larger than any real context window or output budget, small enough for every server and C type.
MAX_TOKENS_FLAG = 1 << 30


def positive_int(flag: str, raw: Any, *, maximum: int = MAX_TOKENS_FLAG) -> int | None:
    if raw is None:
        return None
    text = str(raw).strip()
    if not text.lstrip("+").isdigit():
        raise UsageError(f"{flag} must be a positive integer, got {text[:40]!r}")
    if len(text) > 12 or not 0 < int(text) <= maximum:
        raise UsageError(f"{flag} must be between 1 and {maximum:,}, got {text[:40]}{'...' if len(text) > 40 else ''}")
    return int(text)


def check_args_text(args: argparse.Namespace) -> None:
    """Every text flag must be valid UTF-8: undecodable bytes (kept by Python as lone surrogates) would
    otherwise fail far away, when the text is written to a file or sent."""
    for name, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                flag = "-p" if name == "prompt" else "--" + name.replace("_", "-")
                check_text(flag, item)


def read_stdin_text() -> str:
    """All of standard input as UTF-8 text; anything else is a one-line error naming the first bad byte."""
    stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
    if stream is None:
        return sys.stdin.read()
    data = stream.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"standard input is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") \
            from None


def warn(message: str) -> None:
    from lime.textsafe import sanitize

    print(f"lime: warning: {sanitize(message)}", file=sys.stderr)


_gc_paused = False


def pause_gc() -> None:
    """No cyclic garbage collection while lime starts: start-up makes ~100k objects and frees
    almost none, so the collections it would trigger find nothing (~4 ms of a one-shot)."""
    import gc

    global _gc_paused
    if gc.isenabled():
        gc.disable()
        _gc_paused = True


def resume_gc() -> None:
    """Collect again (a chat's session is open; a REPL may run for hours)."""
    import gc

    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        gc.enable()
