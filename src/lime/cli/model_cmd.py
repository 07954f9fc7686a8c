"""`lime model list|add|import|rm|show|forget|default`: the merged catalog."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lime.auth.hints import login_hint
from lime.cli.common import check_service_name, positive_int, warn
from lime.errors import ConfigError, UsageError

MAX_MODELS = 500  # a server listing 20,000 models should not become 20,000 entries (or requests)
DEADLINE = 60  # seconds for a whole import; Ollama is asked once per model


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
                     help="none, verbosity_only, reasoning_only or reasoning_and_verbosity (default none)")
    add.add_argument("--vision", action="store_true", help="accepts image input")
    add.add_argument("--parallel-tool-calls", action="store_true", help="implements (parallel) tool calls")
    add.add_argument("--reasoning-summaries", action="store_true", help="returns reasoning summaries")
    add.add_argument("--extended-thinking", action="store_true", help="supports extended thinking")
    add.add_argument("--adaptive-thinking", action="store_true",
                     help="Anthropic: thinks adaptively with an effort level rather than a token budget")
    add.add_argument("--include-usage", action="store_true",
                     help="server accepts stream_options.include_usage")
    add.add_argument("--response-format", action="store_true",
                     help="the server honours a JSON-schema response_format (used by --output-schema)")
    add.add_argument("--input-price", type=float, metavar="USD", help="dollars per million input tokens")
    add.add_argument("--cached-input-price", type=float, metavar="USD",
                     help="dollars per million cached input tokens (default: the input price)")
    add.add_argument("--output-price", type=float, metavar="USD", help="dollars per million output tokens")
    add.add_argument("--cache-write-price", type=float, metavar="USD",
                     help="dollars per million tokens written to the prompt cache (default: the input price; "
                     "Anthropic: 1.25x input)")
    add.add_argument("--extra-body", metavar="JSON",
                     help='a JSON object merged into every request body, e.g. \'{"options": {"num_ctx": 16384}}\'')
    add.add_argument("--discover", action="store_true",
                     help="ask the server (Ollama, LM Studio, vLLM, LiteLLM, OpenRouter, llama.cpp) for window, "
                     "capabilities and prices")
    add.add_argument("--replace", action="store_true", help="replace an existing entry with this slug")
    add.set_defaults(handler=run_add)

    imp = msub.add_parser("import", help="add an entry for each model a service lists, as the server describes it")
    imp.add_argument("service", help="the service (lime login --service NAME) to ask")
    imp.add_argument("api_ids", nargs="*", metavar="API_ID", help="only these models (default: every one listed)")
    imp.add_argument("--dry-run", action="store_true", help="print the entries without writing models.json")
    imp.add_argument("--replace", action="store_true", help="replace entries whose slug already exists")
    imp.add_argument("--max-models", metavar="N", help=f"take at most N of the listed models (default {MAX_MODELS})")
    imp.add_argument("--deadline", metavar="SECONDS",
                     help=f"stop asking the server after this long in all (default {DEADLINE}s)")
    imp.set_defaults(handler=run_import)

    rm = msub.add_parser("rm", help="remove a user model entry")
    rm.add_argument("slug")
    rm.set_defaults(handler=run_rm)

    show = msub.add_parser("show", help="every field of one entry, its route, capabilities and learned lessons")
    show.add_argument("slug")
    show.set_defaults(handler=run_show)

    forget = msub.add_parser("forget", help="clear what lime learned about a model's endpoint (refused fields)")
    forget.add_argument("slug")
    forget.set_defaults(handler=run_forget)

    alias = msub.add_parser("alias", help="list the short names, or save NAME as a short name for SLUG")
    alias.add_argument("name", nargs="?")
    alias.add_argument("slug", nargs="?")
    alias.set_defaults(handler=run_alias)

    default = msub.add_parser("default", help="show or set the default model")
    default.add_argument("slug", nargs="?")
    default.set_defaults(handler=run_default)


def _report_problems(problems: list[str]) -> None:
    from lime.textsafe import sanitize

    for problem in problems:
        print(f"lime: error: {sanitize(problem)}", file=sys.stderr)


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
    from lime.textsafe import sanitize

    catalog = load_catalog()
    # models.json is text anyone may have written (an import from a hostile server): shown, never obeyed.
    rows = [tuple(sanitize(c).replace("\n", " ").replace("\t", " ")
                  for c in (e.slug, f"({e.source})", f"{e.context_window:,}", _route_text(e, catalog)))
            for e in catalog]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    print(f"{'SLUG':<{widths[0]}}  {'SOURCE':<{widths[1]}}  {'WINDOW':>{widths[2]}}  ROUTE")
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}")
    _report_problems(catalog.problems)
    return 1 if catalog.problems else 0


def _build_entry(args: argparse.Namespace) -> Any:
    from lime.catalog.entries import (
        PARAM_PRESETS,
        PROVIDERS,
        EntryError,
        ModelEntry,
        canonical_param_preset,
        check_entry,
        check_extra_body,
        check_price,
    )

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
    param_preset = canonical_param_preset(args.param_preset)
    if param_preset is None:
        raise UsageError(f"--param-preset must be one of {', '.join(PARAM_PRESETS)}, got {args.param_preset!r}")
    slug = args.slug.strip()
    if not slug or any(c.isspace() for c in slug):
        raise UsageError(f"invalid slug {args.slug!r}: it must be non-empty and contain no spaces")
    extra_body = None
    if args.extra_body is not None:
        import json

        try:
            extra_body = check_extra_body(slug, json.loads(args.extra_body))
        except ValueError as exc:
            problem = exc.problem if isinstance(exc, EntryError) else f"not valid JSON ({exc})"
            raise UsageError(f"--extra-body: {problem}") from None
    window = positive_int("--context-window", args.context_window)
    flags: dict[str, Any] = {}
    if args.discover:
        window, flags = _discover(args, service, window)
    if window is None:
        raise UsageError("--context-window N is required")
    if flags.get("supports_reasoning_effort") and param_preset == "none":
        param_preset = "reasoning_only"  # the server advertised reasoning: --reasoning-effort may use it
    prices: dict[str, Any] = {}
    for name in ("input_price", "cached_input_price", "output_price", "cache_write_price"):
        value = getattr(args, name, None)
        if value is not None:
            try:
                prices[name] = check_price(slug, name, value)
            except EntryError as exc:
                raise UsageError(f"--{name.replace('_', '-')}: {exc.problem}") from None
    if ("input_price" in prices) != ("output_price" in prices):
        raise UsageError("give both --input-price and --output-price (dollars per million tokens)")
    if prices and "input_price" not in prices:
        raise UsageError("--cached-input-price and --cache-write-price need --input-price and --output-price")
    if prices:
        prices["prices_checked"] = _today()
    else:  # the server's prices, when it published any
        prices = {k: v for k, v in flags.items() if k.endswith("_price") or k == "prices_checked"}
    entry = ModelEntry(
        slug=slug, provider=provider, service=service, context_window=window, **prices,
        display_name=args.display_name or "", description=args.description or "Custom model",
        api_id=args.api_id or None,
        max_output=positive_int("--max-output", args.max_output) or flags.pop("max_output", 0),
        upper_max_output=positive_int("--upper-max-output", args.upper_max_output) or 0,
        auto_compact=positive_int("--auto-compact", args.auto_compact) or 0,
        param_preset=param_preset,
        supports_vision=args.vision or flags.get("supports_vision", False),
        supports_parallel_tool_calls=args.parallel_tool_calls or flags.get("supports_parallel_tool_calls", False),
        supports_reasoning_summaries=args.reasoning_summaries,
        supports_extended_thinking=args.extended_thinking,
        supports_adaptive_thinking=args.adaptive_thinking,
        supports_include_usage=True if args.include_usage else flags.get("supports_include_usage"),
        supports_tools=flags.get("supports_tools"),
        supports_reasoning_effort=flags.get("supports_reasoning_effort"),
        supports_response_format=True if args.response_format else flags.get("supports_response_format"),
        trained_context_window=flags.get("trained_context_window"),
        extra_body=extra_body,
    )
    try:
        check_entry(entry)
    except EntryError as exc:
        flag = "--" + exc.field.replace("_", "-")
        raise UsageError(f"{flag}: {exc.problem}") from None
    return entry


def _survey(service: str, models: list[str] | None = None, *, limit: int | None = None,
            deadline: float | None = None) -> Any:
    """Ask the service's server about its models, with the headers a chat request would carry."""
    from lime.auth.headers import request_headers, secret_values
    from lime.auth.resolve import resolve_credential
    from lime.catalog.presets import get_preset
    from lime.providers.openai_compat.discovery import survey

    preset = get_preset(service)
    cred = resolve_credential(service, preset)
    base_url = cred.base_url or (preset.base_url if preset and not preset.discover else None)
    if not base_url:
        raise UsageError(f"service {service!r} has no base URL to discover from; run: "
                         f"{login_hint(service, base_url=True)}")
    headers = request_headers(cred)
    return survey(base_url, headers, models=models, secrets=secret_values(headers), limit=limit, deadline=deadline)


def _not_listed(found: Any, api_id: str) -> ConfigError:
    close = found.close_matches(api_id)
    listed = ", ".join(found.ids[:8]) + (", ..." if len(found.ids) > 8 else "")
    hint = f"did you mean: {', '.join(close)}?" if close else f"it lists: {listed}"
    return ConfigError(f"{found.base_url} does not list a model {api_id!r}", hint=hint)


def _discovered_flags(d: Any) -> dict[str, Any]:
    flags: dict[str, Any] = dict(d.entry_flags())
    if d.n_ctx_train and d.n_ctx and d.n_ctx_train > d.n_ctx:
        flags["trained_context_window"] = d.n_ctx_train
    if d.max_output and d.n_ctx and d.max_output <= d.n_ctx:
        flags["max_output"] = d.max_output
    if d.prices is not None:
        flags.update(d.prices, prices_checked=_today())
    return flags


def _today() -> str:
    import datetime

    return datetime.datetime.now(datetime.UTC).date().isoformat()


def _discover(args: argparse.Namespace, service: str | None, window: int | None) -> tuple[int | None, dict[str, Any]]:
    """Fill window and flags from the server itself; refuse a model id the server does not list."""
    from lime.providers.openai_compat.discovery import DiscoveryError

    if service is None:
        raise UsageError("--discover needs --provider openai-compat --service NAME (to know the endpoint)")
    api_id = (args.api_id or args.slug).strip()
    try:
        found = _survey(service, [api_id])
    except DiscoveryError as exc:
        key_problem = exc.hint is not None and "key" in exc.hint
        hint = exc.hint if key_problem else (f"{exc.hint}; or give --context-window N" if exc.hint
                                             else "give --context-window N instead")
        raise ConfigError(exc.message, hint=hint) from None
    if api_id not in found.ids:
        raise _not_listed(found, api_id)
    described = found.found.get(api_id)
    if described is not None and not described.chat:
        raise ConfigError(f"{api_id!r} is an embedding model, not a chat model ('lime model import' skips it "
                          "too); lime cannot chat with it")
    if described is None or not described.n_ctx:
        if window is None:
            what = "the server" if found.server == "openai-compatible" else found.server
            raise ConfigError(f"{what} at {found.base_url} lists {api_id!r} but its reply has no context window",
                              hint="give --context-window N" + (
                                  " (or set model_info.max_input_tokens in the proxy's config)"
                                  if found.server == "litellm" else ""))
        return window, _discovered_flags(described) if described else {}
    if described.window_note and window is None:
        warn(f"{api_id}: context window {described.n_ctx:,} from {described.window_note}")
    return (window or described.n_ctx), _discovered_flags(described)


def run_import(args: argparse.Namespace) -> int:
    """One entry per model the service lists, described by the server; --dry-run only prints them."""
    from lime.catalog.entries import ModelEntry
    from lime.catalog.store import add_user_entries, load_catalog
    from lime.providers.openai_compat.discovery import DiscoveryError

    service = check_service_name(args.service)
    wanted = list(dict.fromkeys(a.strip() for a in args.api_ids))
    limit = positive_int("--max-models", args.max_models, maximum=100_000) or MAX_MODELS
    deadline = positive_int("--deadline", args.deadline, maximum=86_400) or DEADLINE
    try:
        found = _survey(service, wanted or None, limit=limit, deadline=deadline)
    except DiscoveryError as exc:
        raise ConfigError(exc.message, hint=exc.hint) from None
    listed = set(found.ids)
    missing = [a for a in wanted if a not in listed]
    if missing:
        raise _not_listed(found, missing[0])
    catalog = load_catalog()
    rows: list[tuple[str, ...]] = []
    entries: list[Any] = []
    problems: list[str] = []
    from lime.textsafe import is_safe

    if found.left_over:
        problems.append(f"{found.server} at {found.base_url} lists {len(found.ids):,} models: took the first "
                        f"{limit:,} (--max-models N takes more; or name the ones you want)")
    if found.out_of_time:
        names = ", ".join(found.out_of_time[:3]) + (", ..." if len(found.out_of_time) > 3 else "")
        problems.append(f"{len(found.out_of_time):,} models not described within the {deadline}s deadline and "
                        f"skipped ({names}); --deadline SECONDS allows longer, or name them")
    taken = set(found.left_over) | set(found.out_of_time)
    for api_id in [i for i in (wanted or list(found.ids)) if i not in taken]:
        if not is_safe(api_id) or any(c.isspace() for c in api_id) or len(api_id) > 200:
            problems.append(f"{api_id[:80]!r}: skipped (not a usable model id)")
            continue
        d = found.found.get(api_id)
        if d is not None and not d.chat:
            problems.append(f"{api_id}: skipped (not a chat model)")
            continue
        if d is None or not d.n_ctx:
            problems.append(f"{api_id}: skipped ({found.server} gave no context window for it; "
                            f"use lime model add --slug ... --api-id {api_id} --context-window N)")
            continue
        slug = api_id
        if catalog.get(slug) is not None and not args.replace:
            problems.append(f"{slug}: skipped (already in the catalog; --replace to overwrite)")
            continue
        if d.window_note:
            problems.append(f"{slug}: context window {d.n_ctx:,} from {d.window_note}")
        flags = _discovered_flags(d)
        max_output = flags.pop("max_output", 0)
        entry = ModelEntry(slug=slug, provider="openai-compat", service=service, context_window=d.n_ctx,
                           api_id=api_id if api_id != slug else None, max_output=max_output,
                           param_preset="reasoning_only" if flags.get("supports_reasoning_effort") else "none",
                           description=f"{found.server} model (imported)", **flags)
        entries.append(entry)
        caps = [name for name, on in (("tools", entry.supports_tools), ("reasoning", entry.supports_reasoning_effort),
                                      ("vision", entry.supports_vision),
                                      ("json-schema", entry.supports_response_format)) if on]
        rows.append((slug, f"{entry.context_window:,}", f"{entry.max_output:,}", ", ".join(caps) or "-"))
    if rows:
        widths = [max(len(r[i]) for r in rows + [("SLUG", "WINDOW", "MAX OUT", "")]) for i in range(3)]
        print(f"{'SLUG':<{widths[0]}}  {'WINDOW':>{widths[1]}}  {'MAX OUT':>{widths[2]}}  CAPABILITIES")
        for r in rows:
            print(f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}")
    for problem in problems:
        warn(problem)
    if args.dry_run:
        print(f"(dry run: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} from {found.server} at "
              f"{found.base_url}; nothing written)")
        return 0 if entries else 1
    if entries:
        add_user_entries(entries, replace=args.replace)  # one write, all or nothing
    print(f"Imported {len(entries)} model{'' if len(entries) == 1 else 's'} from {found.server} at {found.base_url}")
    return 0 if entries else 1


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


def run_alias(args: argparse.Namespace) -> int:
    from lime.catalog.routing import find_entry, suggest
    from lime.catalog.store import load_catalog, set_user_alias
    from lime.errors import UsageError
    from lime.textsafe import sanitize

    catalog = load_catalog()
    if args.name is None:
        user = catalog.user.aliases
        for name, slug in sorted(catalog.aliases().items()):
            print(f"{sanitize(name):<24} {sanitize(slug):<32} {'user' if name in user else 'built-in'}")
        return 0
    if args.slug is None:
        raise UsageError("usage: lime model alias NAME SLUG")
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}", args.name):
        raise UsageError(f"alias {sanitize(args.name)!r}: use letters, digits, '.', '_', ':' or '-'")
    if catalog.get(args.name) is not None:
        raise UsageError(f"{args.name!r} is already a model slug; an alias cannot hide it")
    entry = find_entry(args.slug, catalog)
    if entry is None:
        raise ConfigError(f"unknown model {args.slug!r}", hint=suggest(args.slug, catalog))
    set_user_alias(args.name, entry.slug)
    print(f"{args.name} → {entry.slug}")
    return 0


def run_rm(args: argparse.Namespace) -> int:
    from lime.catalog.store import remove_user_entry

    remove_user_entry(args.slug)
    print(f"Removed {args.slug}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from lime.catalog.routing import find_entry, resolve_route, suggest
    from lime.catalog.store import load_catalog

    catalog = load_catalog()
    entry = find_entry(args.slug, catalog)
    if entry is None:
        raise ConfigError(f"unknown model {args.slug!r}", hint=suggest(args.slug, catalog))
    import json

    from lime.textsafe import sanitize

    def say(line: str) -> None:
        print(sanitize(line))  # every field comes from models.json or the server: escape sequences shown, not run

    for key, value in asdict(entry).items():
        if value is not None:
            say(f"{key}: {json.dumps(value) if isinstance(value, (dict, list)) else value}")
    from lime.catalog.prices import show as show_prices

    say(f"prices: {show_prices(entry)}")
    try:
        route = resolve_route(entry.slug, catalog)
    except ConfigError as exc:
        say(f"route: unroutable: {exc.message}")
    else:
        from lime.auth.headers import describe
        from lime.providers.openai_compat import compat_memory

        say(f"route: {route.service} {route.base_url or 'managed local server'} as {route.wire_model}")
        say(f"credential: {route.credential.source}")
        if route.credential.headers or route.credential.auth_header:
            say(f"headers: {describe(route.credential.headers, route.credential.auth_header)}")
        say(f"capabilities: {', '.join(route.capabilities.flags()) or 'none'}")
        say(f"max tokens field: {route.capabilities.max_tokens_field}")
        if route.base_url:
            lessons = compat_memory.load(route.service, route.wire_model, route.base_url)
            learned = lessons.describe()
            if learned:
                say(f"learned from this endpoint (lime model forget {entry.slug} clears): {'; '.join(learned)}")
            else:
                say("learned from this endpoint: nothing")
    _report_problems(catalog.problems)
    return 0


def run_forget(args: argparse.Namespace) -> int:
    """Clear the lessons learned for one model at its current endpoint."""
    from lime.catalog.routing import find_entry, resolve_route, suggest
    from lime.catalog.store import load_catalog
    from lime.providers.openai_compat import compat_memory

    catalog = load_catalog()
    if find_entry(args.slug, catalog) is None:
        raise ConfigError(f"unknown model {args.slug!r}", hint=suggest(args.slug, catalog))
    route = resolve_route(args.slug, catalog)
    removed = compat_memory.forget(route.service, route.base_url or "", route.wire_model)
    what = f"{removed} lesson{'' if removed == 1 else 's'}" if removed else "nothing (no lessons)"
    print(f"Forgot {what} for {args.slug} at {route.service} {route.base_url or ''}".rstrip())
    return 0


def run_default(args: argparse.Namespace) -> int:
    from lime import config
    from lime.catalog.routing import suggest
    from lime.catalog.store import load_catalog

    if args.slug is None:
        print(config.load_settings().default_model or f"(none; built-in default {config.DEFAULT_MODEL})")
        return 0
    from lime.catalog.routing import find_entry

    catalog = load_catalog()
    if find_entry(args.slug, catalog) is None:
        raise ConfigError(f"unknown model {args.slug!r}", hint=suggest(args.slug, catalog))
    config.save_settings(config.Settings(default_model=args.slug))
    print(f"Default model: {args.slug}")
    return 0
