"""`lime sandbox`: which layers confine shell commands here, and a self-test proving each one."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("sandbox", help="show the shell sandbox's layers and test each one here")
    p.set_defaults(handler=run_sandbox)


def report(enabled: bool = True, network: bool = False) -> tuple[list[str], bool]:
    """(lines, ok) of the self-test: shared by ``lime sandbox`` and the REPL's ``/sandbox``."""
    from lime import config
    from lime.runtime import sandboxcheck

    return sandboxcheck.check(config.config_home(), enabled=enabled, network=network)


def run_sandbox(args: argparse.Namespace) -> int:
    from lime.cli.status_cmd import chat_settings
    from lime.textsafe import sanitize

    settings, _error = chat_settings(args)
    enabled = settings is None or settings.sandbox is not False
    lines, ok = report(enabled, bool(settings and settings.network_isolation))
    for line in lines:
        print(sanitize(line))
    return 0 if ok else 1
