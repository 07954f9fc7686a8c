"""One-shot mode (``-p`` and/or piped stdin).

The answer goes to stdout — raw text when stdout is not a terminal, rendered Markdown when it is —
and everything else (tool activity, notices) to stderr, so ``lime -p ... > file`` and pipes get
only the answer. ``--output-format json`` prints one JSON object, ``stream-json`` one JSON event
per line; ``--output-schema`` prints the validated JSON value.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from lime.cli.setup import setup
from lime.cli.ui import CollectUI, PlainUI, StreamJsonUI
from lime.errors import LimeError
from lime.textsafe import sanitize


def _json_error(fmt: str, exc: LimeError, **extra: Any) -> None:
    """Scripts reading JSON get the failure on stdout too (the one-line error still goes to stderr)."""
    if fmt in ("json", "stream-json"):
        err = {"error": str(exc), "kind": getattr(exc, "kind", "error"), **extra}
        print(json.dumps(err if fmt == "json" else {"type": "error", **err}, ensure_ascii=False))


def _say(text: str) -> None:
    print(f"lime: {sanitize(text)}", file=sys.stderr)


def run_once(args: argparse.Namespace, prompt: str) -> int:
    from lime.runtime import schema as schemas
    from lime.runtime.agent import Cancelled, result_json

    fmt = args.output_format or "text"
    verbose = bool(args.verbose)
    ui: PlainUI
    if fmt == "json" or (args.output_schema and fmt == "text"):
        ui = CollectUI(verbose=verbose)
    elif fmt == "stream-json":
        ui = StreamJsonUI(verbose=verbose)
    else:
        ui = PlainUI(markdown=sys.stdout.isatty(), verbose=verbose)
    try:
        schema = schemas.load(args.output_schema) if args.output_schema else None
        ready = setup(args, ui=ui, say=_say)
    except LimeError as exc:
        _json_error(fmt, exc)
        raise
    agent, route, session = ready.agent, ready.route, ready.session
    if isinstance(ui, StreamJsonUI):
        ui.secrets = list(agent.workspace.secrets)  # a key the server echoes never reaches a script's stdout
        ui.emit({"type": "start", "model": route.slug, "session": session.id,
                 "route": {"service": route.service, "base_url": route.base_url}})
    if prompt.startswith("/") and ready.commands:
        from lime.cli.custom_commands import resolve

        custom = resolve(prompt, ready.commands)
        if custom is not None:
            prompt = custom[0].expand(custom[1])
    structured: Any = None
    try:
        text, images = prompt, []
        extra: tuple[str, ...] = tuple(getattr(args, "images", None) or ())
        if "@" in prompt or extra:  # mentions and --image (loaded only then)
            from lime.cli.mentions import attach

            route = agent.route
            attached = attach(prompt, agent.workspace, vision=route.capabilities.vision, model=route.slug,
                              window=agent.window, extra_images=extra)
            text, images = attached.text, attached.images
        if schema is not None:
            structured, result = schemas.run_structured(agent, text, schema)
        else:
            result = agent.run(text, parts=images)
    except Cancelled:
        _say("cancelled")
        return 130
    except LimeError as exc:
        _json_error(fmt, exc, model=agent.route.slug, session=session.id)
        raise
    finally:
        agent.end()
    from lime.auth.masking import redact_json

    data = result_json(result, agent.route, session)
    if schema is not None:
        data["structured"] = structured
    if ui.plan is not None:
        data["plan"] = ui.plan
    # Text, reasoning, tool arguments and the structured value are the server's: any known key in them is masked.
    masked = redact_json(data, agent.workspace.secrets)
    data = masked if isinstance(masked, dict) else data
    structured = data.get("structured", structured)
    if fmt == "json":
        print(json.dumps(data, ensure_ascii=False, indent=2))
    elif isinstance(ui, StreamJsonUI):
        ui.emit({"type": "result", **data})
    elif schema is not None:
        print(json.dumps(structured, ensure_ascii=False, indent=2))
    elif ui.plan is not None:
        # Plan mode without a terminal to approve on: the plan is the answer.
        plan = str(data.get("plan", ui.plan))
        ui.text(("\n\n" if result.text.strip() else "") + plan.rstrip("\n") + "\n")
        ui.answer_done()
    if verbose:
        u = result.usage
        _say(f"usage: {u.prompt_tokens} in, {u.completion_tokens} out{' (estimated)' if u.estimated else ''}; "
             f"session {session.id}")
    if result.stopped == "max_turns":
        raise LimeError(f"stopped after {result.requests} model request{'s' if result.requests != 1 else ''} (--max-turns {agent.settings.max_turns}) "
                        "before the model finished")
    return 0
