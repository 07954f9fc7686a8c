"""`lime status`: which model, routed where, with which credential source (never the key)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="active model, route, credential source and capabilities")
    p.set_defaults(handler=run_status)


def run_status(args: argparse.Namespace) -> int:
    from lime.catalog.routing import resolve_route, select_model
    from lime.catalog.store import load_catalog

    catalog = load_catalog()
    for problem in catalog.problems:
        print(f"lime: warning: {problem}", file=sys.stderr)
    from lime.local.paths import local_available

    choice = select_model(getattr(args, "model", None), offline=local_available)
    route = resolve_route(choice.slug, catalog)
    e = route.entry
    lines = [
        ("model", f"{e.slug} ({e.display_name}; from {choice.reason})"),
        ("service", route.service + (f" ({route.preset.name})" if route.preset else " (custom)")),
        ("base URL", route.base_url or "managed local server (see 'lime local status')"),
        ("wire model", route.wire_model),
        ("credential", route.credential.source
         + (f" ({route.credential.problem})" if route.credential.problem else "")),
        ("context window", f"{e.context_window:,} tokens"),
        ("max output", f"{e.max_output:,} (upper {e.upper_max_output:,})"),
        ("auto-compact at", f"{e.auto_compact:,} input tokens"),
        ("param preset", e.param_preset),
        ("capabilities", ", ".join(route.capabilities.flags()) or "none"),
    ]
    from lime.runtime import project as projects
    from lime.runtime.session import latest_summary

    here = projects.discover()
    store, _why = projects.sessions_dir(here, bool(here.files) and projects.is_trusted(here.root))
    last = latest_summary(store)
    if last is not None:
        tokens = f"{last['prompt_tokens']:,} prompt + {last['completion_tokens']:,} completion tokens"
        lines.append(("latest session", f"{last['id']} ({last['model']}, {last['messages']} messages)"))
        lines.append(("session usage", f"{tokens} over {last['requests']} request" + ("" if last["requests"] == 1 else "s")
                      + (" (partly estimated)" if last["estimated"] else "")
                      + (f", {last['compactions']} compactions" if last["compactions"] else "")))
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"{key + ':':<{width + 1}} {value}")
    if route.credential.source == "missing":
        print(f"{'':<{width + 1}} no key yet: lime login --provider "
              + ("openai" if route.service == "openai" else f"openai-compat --service {route.service}")
              + " --with-api-key")
    return 0
