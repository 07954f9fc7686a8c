"""`lime status`: which model, routed where, with which credential source (never the key)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from lime.textsafe import sanitize

if TYPE_CHECKING:
    from lime.runtime.project import Project
    from lime.runtime.settings import Settings


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="active model, route, credential source and capabilities")
    p.set_defaults(handler=run_status)


def _sandbox(settings: Settings | None) -> str:
    """How shell commands would be confined (user, local or --settings may turn the sandbox off)."""
    from lime.runtime import sandboxcheck

    return sandboxcheck.summary(settings is None or settings.sandbox is not False,
                                bool(settings and settings.network_isolation))


def _api(route: Any) -> str:
    from lime.providers import wire_name

    return {"chat": "OpenAI Chat Completions", "anthropic": "Anthropic Messages",
            "responses": "OpenAI Responses", "gemini": "Gemini generateContent (SSE)"}[wire_name(route)]


def _token_estimate(service: str, model: str) -> str:
    from lime.tokens import learned

    return learned.for_model(service, model).describe()


def run_status(args: argparse.Namespace) -> int:
    from lime.catalog.routing import resolve_route, select_model
    from lime.catalog.store import load_catalog

    catalog = load_catalog()
    for problem in catalog.problems:
        print(f"lime: warning: {problem}", file=sys.stderr)
    from lime.local.paths import local_available
    from lime.runtime import project as projects

    here = projects.discover()
    trusted = bool(here.files) and (bool(getattr(args, "trust", False)) or projects.is_trusted(here.root))
    settings, settings_error = _settings(args, here, trusted)
    configured = settings.keys.model if settings else None
    choice = select_model(getattr(args, "model", None), offline=local_available,
                          configured=(configured.value, configured.origin) if configured else None)
    route = resolve_route(choice.slug, catalog)
    e = route.entry
    from lime.auth.headers import describe
    lines = [
        ("model", f"{e.slug} ({e.display_name}; from {choice.reason})"),
        ("service", route.service + (f" ({route.preset.name})" if route.preset else " (custom)")),
        ("base URL", route.base_url or "managed local server (see 'lime local status')"),
        ("wire model", route.wire_model),
        ("API", _api(route)),
        ("credential", route.credential.source
         + (f" ({route.credential.problem})" if route.credential.problem else "")),
        *([("headers", describe(route.credential.headers, route.credential.auth_header))]
          if route.credential.headers or route.credential.auth_header else []),
        ("context window", f"{e.context_window:,} tokens"),
        ("max output", f"{e.max_output:,} (upper {e.upper_max_output:,})"),
        ("auto-compact at", f"{e.auto_compact:,} input tokens"),
        ("param preset", e.param_preset),
        ("capabilities", ", ".join(route.capabilities.flags()) or "none"),
        ("sandbox", _sandbox(settings)),
        ("token estimate", _token_estimate(route.service, route.wire_model)),
    ]
    from lime.runtime.session import latest_summary

    lines.append(("workspace", sanitize(str(here.cwd)) + ("" if not here.files else " (project files: "
                  + ("trusted)" if trusted else "not trusted, ignored)"))))
    lines.append(("permissions", _permissions(args, settings) if settings else f"settings error: {settings_error}"))
    store, _why = projects.sessions_dir(here, trusted)
    last = latest_summary(store)
    if last is not None:
        tokens = f"{last['prompt_tokens']:,} prompt + {last['completion_tokens']:,} completion tokens"
        lines.append(("latest session", f"{last['id']} ({last['model']}, {last['messages']} messages)"))
        lines.append(("session usage", f"{tokens} over {last['requests']} request" + ("" if last["requests"] == 1 else "s")
                      + (" (partly estimated)" if last["estimated"] else "")
                      + (f"; prompt cache: {last['cache_read_tokens']:,} read, {last['cache_write_tokens']:,} written"
                         if last.get("cache_read_tokens") or last.get("cache_write_tokens") else "")
                      + (f", {last['compactions']} compactions" if last["compactions"] else "")))
        from lime.catalog.prices import session_cost
        from lime.catalog.routing import find_entry

        lines.append(("session cost", session_cost(find_entry(last["model"], catalog), last)))
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"{key + ':':<{width + 1}} {sanitize(value)}")
    if route.credential.source == "missing":
        print(f"{'':<{width + 1}} no key yet: {route.login_hint()}")
    return 0


def chat_settings(args: argparse.Namespace) -> tuple[Settings | None, str]:
    """The settings a chat started here with these flags would use (or None and why not)."""
    from lime.runtime import project as projects

    here = projects.discover()
    trusted = bool(here.files) and (bool(getattr(args, "trust", False)) or projects.is_trusted(here.root))
    return _settings(args, here, trusted)


def _settings(args: argparse.Namespace, here: Project, trusted: bool) -> tuple[Settings | None, str]:
    """The settings a chat started here would use, read once (settings files are stdlib JSON)."""
    from lime import config
    from lime.errors import LimeError
    from lime.runtime import settings as settings_mod

    try:
        project, local = here.settings_files() if trusted else ([], None)
        return settings_mod.load(user=config.config_home() / "settings.json", project=project, local=local,
                                 flag=getattr(args, "settings", None),
                                 sources=settings_mod.parse_sources(getattr(args, "setting_sources", None)),
                                 local_tracked=here.local_tracked() if local else None), ""
    except LimeError as exc:
        return None, str(exc)


def _permissions(args: argparse.Namespace, s: Settings) -> str:
    """The mode a chat started here would use and how many rules apply."""
    mode, origin = getattr(args, "permission_mode", None), "--permission-mode"
    if getattr(args, "dangerously_skip_permissions", False):
        mode, origin = "bypassPermissions", "--dangerously-skip-permissions"
    if mode is None:
        mode, origin = s.default_mode or "default", s.mode_origin or ""
    counts = ", ".join(f"{len(s.rules[k])} {k}" for k in ("allow", "ask", "deny"))
    return f"{mode}{f' (from {origin})' if origin else ''}; rules: {counts}"
