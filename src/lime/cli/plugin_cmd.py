"""``lime plugin list|enable|disable|install``: plugins (``plugins``)."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from lime.cli import plugins
from lime.errors import UsageError
from lime.textsafe import sanitize


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("plugin", help="list, enable, disable or install plugins")
    psub = p.add_subparsers(dest="plugin_action", metavar="ACTION", required=True)
    psub.add_parser("list", help="installed plugins, enabled or not, and what each brings").set_defaults(handler=run_list)
    for action, text in (("enable", "use a plugin from the next session on (shows what it will be able to do)"),
                         ("disable", "stop using a plugin")):
        sp = psub.add_parser(action, help=text)
        sp.add_argument("id", metavar="ID")
        sp.set_defaults(handler=run_switch, action=action)
    inst = psub.add_parser("install", help="copy a plugin directory into ~/.lime/plugins/ (not enabled yet)")
    inst.add_argument("path", metavar="PATH")
    inst.set_defaults(handler=run_install)


def _show(p: plugins.Plugin, mark: str = "") -> None:
    head = f"{p.id} {p.text('version')}".strip()
    print(sanitize(f"{mark}{head}: {p.text('description')[:100]}" + (f" (by {p.text('author')[:60]})" if p.text("author") else "")))
    for line in p.abilities():
        print(sanitize(f"    - {line[:300]}"))


def run_list(args: argparse.Namespace) -> int:
    found = plugins.discover()
    if not found:
        print(sanitize(f"no plugins (install one with lime plugin install PATH; looked in "
                       f"{', '.join(str(f) for f in plugins.folders())})"))
        return 0
    on = plugins.enabled_ids()
    for pid, p in sorted(found.items()):
        _show(p, "[on]  " if pid in on else "[off] ")
    return 0


def run_switch(args: argparse.Namespace) -> int:
    found = plugins.discover()
    p = found.get(args.id)
    if p is None:
        raise UsageError(f"no plugin {args.id[:100]!r} installed (lime plugin list shows them)")
    on = args.action == "enable"
    plugins.set_enabled(p.id, on)
    if on:
        print(sanitize(f"enabled {p.id}; from the next session on it will be able to:"))
        for line in p.abilities():
            print(sanitize(f"    - {line[:300]}"))
    else:
        print(sanitize(f"disabled {p.id}"))
    return 0


def run_install(args: argparse.Namespace) -> int:
    from lime import config

    source = Path(args.path).expanduser()
    manifest = source / plugins.MANIFEST
    if not manifest.is_file():
        raise UsageError(f"{args.path}: not a plugin (no {plugins.MANIFEST})")
    probe = plugins.Plugin(source.name, source)
    try:
        import json

        probe.manifest = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UsageError(f"{manifest} is not valid JSON") from None
    if not isinstance(probe.manifest, dict):
        raise UsageError(f"{manifest} must hold a JSON object")
    pid = str(probe.manifest.get("id") or probe.manifest.get("name") or source.name)
    if not plugins.ID_RE.fullmatch(pid):
        raise UsageError(f"{manifest}: id {pid[:100]!r} is not valid")
    target = config.config_home() / "plugins" / pid
    if target.exists():
        raise UsageError(f"a plugin {pid} is installed already ({target}); remove that directory first")
    config.ensure_home()
    try:
        shutil.copytree(source, target, symlinks=True)
    except OSError as exc:
        raise UsageError(f"cannot copy {source} to {target}: {exc.strerror or exc}") from None
    print(sanitize(f"installed {pid} in {target} (not enabled: lime plugin enable {pid})"))
    return 0
