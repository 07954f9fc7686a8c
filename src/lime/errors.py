"""The one exception type the CLI turns into a one-line message and a non-zero exit."""

from __future__ import annotations


class LimeError(Exception):
    """An error meant for the user: its message is complete, safe to print, and never holds a secret."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class ConfigError(LimeError):
    """Bad configuration: flags, environment variables or stored files."""


class UsageError(LimeError):
    """Bad command-line usage."""

    exit_code = 2
