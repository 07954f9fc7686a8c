"""Entry point: parse arguments, dispatch, and turn every LimeError into one line and an exit code.

Only argparse and lime's own light modules load here; HTTP, rendering, line editing and
tokenizers are imported by the commands that use them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lime.errors import LimeError, UsageError
from lime.runtime.modes import MODES as PERMISSION_MODES
from lime.version import __version__

# Each command's module is imported (and its arguments built) only when that command runs;
# the others get a one-line stub so --help still lists them.
COMMANDS: dict[str, tuple[tuple[str, str], ...]] = {
    "lime.cli.auth_cmd": (("login", "store an API key (read from stdin) for a service"),
                          ("logout", "remove a service's stored credential")),
    "lime.cli.model_cmd": (("model", "list, add, remove or inspect catalog models"),),
    "lime.cli.status_cmd": (("status", "active model, route, credential source and capabilities"),),
    "lime.cli.sandbox_cmd": (("sandbox", "show the shell sandbox's layers and test each one here"),),
    "lime.cli.local_cmd": (("local", "manage the local llama.cpp server (offline model)"),),
    "lime.cli.mcp_cmd": (("mcp", "add, list, inspect or remove MCP servers"),),
    "lime.cli.prompt_cmd": (("system-prompt", "print the system prompt a new session would start with here"),),
    "lime.cli.command_cmd": (("command", "list, show, create, edit or delete custom slash commands"),),
    "lime.cli.skills_cmd": (("skills", "list the skills the model can load here"),),
    "lime.cli.plugin_cmd": (("plugin", "list, enable, disable or install plugins"),),
    "lime.cli.init_cmd": (("init", "write AGENTS.md, .lime/settings.json and .gitignore entries for this repository"),),
    "lime.cli.sessions_cmd": (("sessions", "list saved sessions (title, age, first prompt, messages)"),),
    "lime.cli.version_cmd": (("version", "lime's version and build information"),),
    "lime.cli.agents_cmd": (("agents", "list the sub-agents the agent tool can start here"),),
}


def _wanted_command(argv: Sequence[str]) -> str | None:
    names = {name for cmds in COMMANDS.values() for name, _ in cmds}
    return next((a for a in argv if a in names), None)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    from lime.cli.common import Parser

    p = Parser(
        prog="lime",
        description="Talk to any OpenAI-compatible LLM service. With no command: chat "
        "(REPL on a terminal, one-shot with -p or piped stdin).",
        epilog="Examples: lime -p 'Say hello' | git diff | lime -p 'review this' | lime --model llama-3.3-70b",
    )
    p.add_argument("-V", "--version", action="version", version=f"lime {__version__}")
    p.add_argument("-m", "--model", help="model slug from the catalog (see 'lime model list')")
    p.add_argument("-p", "--prompt", help="one-shot prompt; piped stdin is appended to it")
    p.add_argument("--json", dest="output_format", action="store_const", const="json",
                   help="one-shot: print one JSON object (text, tool calls, usage, model, route)")
    p.add_argument("--output-format", dest="output_format", choices=("text", "json", "stream-json"),
                   help="one-shot output format (default: text)")
    p.add_argument("-c", "--continue", dest="continue_session", action="store_true",
                   help="resume the latest session")
    p.add_argument("--resume", nargs="?", const="latest", metavar="REF",
                   help="resume a session by id, path or 'latest'")
    p.add_argument("--system", help="system prompt for a new session")
    p.add_argument("--image", dest="images", action="append", default=[], metavar="FILE",
                   help="one-shot: attach an image (PNG, JPEG, GIF, WebP) for a vision model (repeatable)")
    p.add_argument("--reasoning-effort", "--reasoning", dest="reasoning", metavar="LEVEL",
                   help="reasoning effort: none, low, medium, high, xhigh (models whose param preset allows it)")
    p.add_argument("--verbosity", metavar="LEVEL", help="answer verbosity: low, medium, high (where supported)")
    p.add_argument("--max-tokens", type=int, metavar="N", help="cap on output tokens for each answer")
    p.add_argument("--service-tier", metavar="TIER", help="OpenAI processing tier: auto, default, flex or priority")
    p.add_argument("--max-turns", type=int, default=25, metavar="N", help="agent loop turn limit (default 25)")
    p.add_argument("--permission-mode", choices=PERMISSION_MODES, help="how tool calls are approved")
    p.add_argument("--dangerously-skip-permissions", action="store_true",
                   help="same as --permission-mode bypassPermissions")
    p.add_argument("--allowedTools", "--allowed-tools", dest="allowed_tools", action="append", default=[],
                   metavar="TOOLS", help="restrict the tools offered to the model (comma or space separated; "
                   "repeatable); Bash(PREFIX:*)-style entries also allow those calls")
    p.add_argument("--settings", metavar="FILE_OR_JSON", help="extra settings (file or inline JSON), applied last")
    p.add_argument("--setting-sources", metavar="LIST", help="settings scopes to merge: user,project,local,flag")
    p.add_argument("--trust", action="store_true",
                   help="use this folder's project files (.lime/, .lime.json, AGENTS.md) for this run")
    p.add_argument("--add-dir", dest="add_dirs", action="append", default=[], metavar="DIR",
                   help="extra directory the tools may touch (repeatable)")
    p.add_argument("--no-tools", action="store_true", help="do not offer tools to the model")
    p.add_argument("--output-schema", metavar="FILE", help="constrain the final answer to this JSON Schema")
    p.add_argument("-v", "--verbose", action="store_true", help="say more on stderr (never secrets)")

    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    wanted = _wanted_command(argv)
    for module_name, commands in COMMANDS.items():
        if any(name == wanted for name, _ in commands):
            import importlib

            importlib.import_module(module_name).register(sub)
        else:
            for name, text in commands:
                sub.add_parser(name, help=text, add_help=False)
    return p


def chat(args: argparse.Namespace) -> int:
    """No command: a one-shot answer when there is a prompt (-p or piped stdin), else the REPL."""
    from lime.cli.setup import gather_prompt

    if args.slash_commands:
        if not (args.resume or args.continue_session):
            raise UsageError(f"{args.slash_commands[0].split()[0]} runs on a saved session: "
                             "lime --resume REF /CMD (or -c /CMD)")
        from lime.cli.repl import run_commands

        return run_commands(args, args.slash_commands)
    prompt = gather_prompt(args)
    if prompt is not None:
        from lime.cli.oneshot import run_once

        return run_once(args, prompt)
    if args.output_format in ("json", "stream-json"):
        raise UsageError("--output-format json/stream-json needs a prompt (-p PROMPT or piped stdin)")
    from lime.cli.repl import run_repl

    return run_repl(args)


# Commands that look at the working directory (project files, tools, sessions).
WORKSPACE_COMMANDS = (None, "status", "system-prompt", "init", "agents")


def _check_cwd() -> None:
    """A shell can sit in a directory removed since; os.getcwd() then fails deep inside a command."""
    import os

    try:
        os.getcwd()
    except FileNotFoundError:
        raise UsageError("the working directory no longer exists; cd to an existing directory") from None


def _masked(text: str) -> str:
    """An error message with any run of a known key hidden (a last line of defence; errors mask too)."""
    from lime.auth.masking import redact
    from lime.auth.resolve import known_keys

    try:
        return redact(text, known_keys())
    except LimeError:
        return text


def _slash_commands(argv: list[str], parser: argparse.ArgumentParser) -> tuple[list[str], list[str]]:
    """``lime --resume REF /status /compact``: the slash commands (one argument each), and the rest.

    A word that is an option's value (``--add-dir /tmp``, ``-p /explain``) stays where it is."""
    import re

    takes_value = {s for a in parser._actions if a.nargs != 0 and a.nargs != "?" for s in a.option_strings}
    rest: list[str] = []
    commands: list[str] = []
    for i, arg in enumerate(argv):
        after_option = i > 0 and argv[i - 1] in takes_value
        if not after_option and re.match(r"/[a-z][a-z0-9_-]*(\s|$)", arg, re.IGNORECASE):
            commands.append(arg)
        else:
            rest.append(arg)
    return commands, rest


def main(argv: Sequence[str] | None = None) -> int:
    from lime.cli.common import pause_gc, resume_gc

    pause_gc()
    try:
        return _main(argv)
    finally:
        resume_gc()


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands: list[str] = []
    if any(a.startswith("/") for a in argv):
        commands, argv = _slash_commands(argv, build_parser(argv))
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    args.slash_commands = commands
    try:
        from lime import config

        config.check_home_readable()
        from lime.cli.common import check_args_text

        check_args_text(args)
        if args.command in WORKSPACE_COMMANDS:
            _check_cwd()
        if args.command is None:
            return chat(args)
        handler = args.handler
        return int(handler(args) or 0)
    except LimeError as exc:
        from lime.textsafe import sanitize

        print(f"lime: error: {sanitize(_masked(str(exc)))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("lime: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 141


def run() -> int:
    """The ``lime`` command: ``main``, then an exit that does not sweep what lime made.

    The interpreter's last garbage collections walk every object still alive to free almost
    none of them; frozen, they are left to reference counting and the exit, ~12 ms sooner."""
    code = main()
    import gc

    gc.freeze()
    return code


if __name__ == "__main__":
    raise SystemExit(run())
