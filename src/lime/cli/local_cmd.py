"""`lime local start|stop|status`: the managed llama.cpp server."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("local", help="manage the local llama.cpp server (offline model)")
    lsub = p.add_subparsers(dest="local_command", metavar="ACTION", required=True)
    for name, text in (("start", "start (or reuse) the server"), ("stop", "stop the server"),
                       ("status", "model path, port, pid, uptime, memory")):
        sp = lsub.add_parser(name, help=text)
        sp.add_argument("--gguf", metavar="PATH", help="serve this GGUF file instead of the default")
        sp.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from lime.local import commands

    result: int = commands.run(args)
    return result
