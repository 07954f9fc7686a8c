"""`lime model list|add|rm|show|default`: the merged catalog."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lime.auth.hints import login_hint
from lime.cli.common import check_service_name, positive_int, warn
from lime.errors import ConfigError, UsageError


def register(sub: Any) -> None:
    model = sub.add_parser("model", help="list, add, remove or inspect catalog models")
    msub = model.add_subparsers(dest="model_command", metavar="ACTION", required=True)

    ls = msub.add_parser("list", help="the merged catalog with each slug's route")
    ls.set_defaults(handler=run_list)

    add = msub.add_parser("add", help="add a model entry to models.json")
    add.add_argument("--slug", required=True, help="the name you will use with --model")
    add.add_argument("--provider", required=True, help="openai, anthropic, gemini, openai-compat or custom")
    add.add_argument("--context-window", metavar="N", help="context window in tokens (required unless --discover)")
    add.add_argument("--service", metavar="NAME", help="credential bucket / preset (only with openai-compat)")
    add.add_argument("--display-name", help="default: the slug")
    add.add_argument("--description", "--desc", dest="description", help='default: "Custom model"')
    add.add_argument("--api-id", "--api-model-id", dest="api_id", help="wire model id (default: the slug)")
    add.add_argument("--max-output", metavar="N", help="default: clamp(window/4, 1, 32768)")
    add.add_argument("--upper-max-output", metavar="N", help="default: min(max_output*2, window/2), >= max_output")
    add.add_argument("--auto-compact", metavar="N", help="default: 90%% of window - max_output (min 1)")
    add.add_argument("--param-preset", default="none",
                     help="none, verbosity, reasoning or reasoning-and-verbosity (default none)")
    add.add_argument("--vision", action="store_true", help="accepts image input")
    add.add_argument("--parallel-tool-calls", action="store_true", help="implements (parallel) tool calls")
    add.add_argument("--reasoning-summaries", action="store_true", help="returns reasoning summaries")
    add.add_argument("--extended-thinking", action="store_true", help="supports extended thinking")
    add.add_argument("--include-usage", action="store_true",
                     help="server accepts stream_options.include_usage")
    add.add_argument("--discover", action="store_true",
                     help="ask the server (llama.cpp /props, /v1/models) for window and capabilities")
    add.add_argument("--replace", action="store_true", help="replace an existing entry with this slug")
    add.set_defaults(handler=run_add)

    rm = msub.add_parser("rm", help="remove a user model entry")
    rm.add_argument("slug")
    rm.set_defaults(handler=run_rm)

    show = msub.add_parser("show", help="every field of one entry, its route and capabilities")
    show.add_argument("slug")
    show.set_defaults(handler=run_show)

    default = msub.add_parser("default", help="show or set the default model")
    default.add_argument("slug", nargs="?")
    default.set_defaults(handler=run_default)


def _report_problems(problems: list[str]) -> None:
    for problem in problems:
        print(f"lime: error: {problem}", file=sys.stderr)


def _route_text(entry: Any, catalog: Any) -> str:
    from lime.catalog.routing import resolve_route

    try:
        route = resolve_route(entry.slug, catalog)
    except ConfigError as exc:
        return f"(unroutable: {exc.message})"
    where = route.base_url or "managed local server"
    return f"{route.service} {where} as {route.wire_model}"


def run_list(args: argparse.Namespace) -> int:
    from lime.catalog.store import load_catalog

    catalog = load_catalog()
    rows = [(e.slug, f"({e.source})", f"{e.context_window:,}", _route_text(e, catalog)) for e in catalog]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    print(f"{'SLUG':<{widths[0]}}  {'SOURCE':<{widths[1]}}  {'WINDOW':>{widths[2]}}  ROUTE")
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}")
    _report_problems(catalog.problems)
    return 1 if catalog.problems else 0


def _build_entry(args: argparse.Namespace) -> Any:
    from lime.catalog.entries import PARAM_PRESETS, PROVIDERS, EntryError, ModelEntry, check_entry

    provider = args.provider.strip()
    if provider not in PROVIDERS:
        raise UsageError(f"unknown provider {provider!r}: use one of {', '.join(PROVIDERS)}")
    service = None
    if provider == "openai-compat":
        if not args.service:
            raise UsageError("--service NAME is required with --provider openai-compat")
        service = check_service_name(args.service)
    elif args.service is not None:
        raise UsageError("--service is only accepted with --provider openai-compat")
    if args.param_preset not in PARAM_PRESETS:
        raise UsageError(f"--param-preset must be one of {', '.join(PARAM_PRESETS)}, got {args.param_preset!r}")
    window = positive_int("--context-window", args.context_window)
    flags: dict[str, Any] = {}
    if args.discover:
        window, flags = _discover(args, service, window)
    if window is None:
        raise UsageError("--context-window N is required")
    slug = args.slug.strip()
    if not slug or any(c.isspace() for c in slug):
        raise UsageError(f"invalid slug {args.slug!r}: it must be non-empty and contain no spaces")
    entry = ModelEntry(
        slug=slug, provider=provider, service=service, context_window=window,
        display_name=args.display_name or "", description=args.description or "Custom model",
        api_id=args.api_id or None,
        max_output=positive_int("--max-output", args.max_output) or 0,
        upper_max_output=positive_int("--upper-max-output", args.upper_max_output) or 0,
        auto_compact=positive_int("--auto-compact", args.auto_compact) or 0,
        param_preset=args.param_preset,
        supports_vision=args.vision or flags.get("supports_vision", False),
        supports_parallel_tool_calls=args.parallel_tool_calls or flags.get("supports_parallel_tool_calls", False),
        supports_reasoning_summaries=args.reasoning_summaries,
        supports_extended_thinking=args.extended_thinking,
        supports_include_usage=True if args.include_usage else flags.get("supports_include_usage"),
        supports_tools=flags.get("supports_tools"),
        supports_reasoning_effort=flags.get("supports_reasoning_effort"),
    )
    try:
        check_entry(entry)
    except EntryError as exc:
        flag = "--" + exc.field.replace("_", "-")
        raise UsageError(f"{flag}: {exc.problem}") from None
    return entry


def _discover(args: argparse.Namespace, service: str | None, window: int | None) -> tuple[int | None, dict[str, Any]]:
    """Fill window and flags from the server itself (llama.cpp's /props and /v1/models)."""
    from lime.auth.resolve import resolve_credential
    from lime.catalog.presets import get_preset
    from lime.providers.openai_compat.discovery import discover

    if service is None:
        raise UsageError("--discover needs --provider openai-compat --service NAME (to know the endpoint)")
    preset = get_preset(service)
    cred = resolve_credential(service, preset)
    base_url = cred.base_url or (preset.base_url if preset and not preset.discover else None)
    if not base_url:
        raise UsageError(f"service {service!r} has no base URL to discover from; run: "
                         f"{login_hint(service, base_url=True)}")
    found = discover(base_url, cred.api_key)
    if found is None:
        raise ConfigError(f"{base_url} did not answer /props or /v1/models; give --context-window instead")
    flags = found.entry_flags()
    return (window or found.n_ctx), flags


def run_add(args: argparse.Namespace) -> int:
    from lime.auth import store as cred_store
    from lime.catalog.presets import get_preset
    from lime.catalog.store import add_user_entry

    entry = _build_entry(args)
    replaced = add_user_entry(entry, replace=args.replace)
    verb = "Replaced" if replaced else "Added"
    print(f"{verb} {entry.slug} (context {entry.context_window:,}, max output {entry.max_output:,}, "
          f"auto-compact at {entry.auto_compact:,})")
    if (entry.service and get_preset(entry.service) is None
            and cred_store.get(cred_store.bucket_name(entry.service)) is None):
        warn(f"service {entry.service!r} has no endpoint yet: run {login_hint(entry.service, base_url=True)}")
    return 0


def run_rm(args: argparse.Namespace) -> int:
    from lime.catalog.store import remove_user_entry

    remove_user_entry(args.slug)
    print(f"Removed {args.slug}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from lime.catalog.routing import resolve_route, suggest
    from lime.catalog.store import load_catalog

    catalog = load_catalog()
    entry = catalog.get(args.slug)
    if entry is None:
        raise ConfigError(f"unknown model {args.slug!r}", hint=suggest(args.slug, catalog))
    for key, value in asdict(entry).items():
        if value is not None:
            print(f"{key}: {value}")
    try:
        route = resolve_route(entry.slug, catalog)
    except ConfigError as exc:
        print(f"route: unroutable: {exc.message}")
    else:
        print(f"route: {route.service} {route.base_url or 'managed local server'} as {route.wire_model}")
        print(f"credential: {route.credential.source}")
        print(f"capabilities: {', '.join(route.capabilities.flags()) or 'none'}")
        print(f"max tokens field: {route.capabilities.max_tokens_field}")
    _report_problems(catalog.problems)
    return 0


def run_default(args: argparse.Namespace) -> int:
    from lime import config
    from lime.catalog.routing import suggest
    from lime.catalog.store import load_catalog

    if args.slug is None:
        print(config.load_settings().default_model or f"(none; built-in default {config.DEFAULT_MODEL})")
        return 0
    catalog = load_catalog()
    if catalog.get(args.slug) is None:
        raise ConfigError(f"unknown model {args.slug!r}", hint=suggest(args.slug, catalog))
    config.save_settings(config.Settings(default_model=args.slug))
    print(f"Default model: {args.slug}")
    return 0
