"""Build hook: record the git commit the wheel is built from in ``lime/_build.json`` so that
``lime version`` can name it without running git (read from ``.git`` here too; no git needed)."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class BuildInfoHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":  # a checkout reads its own .git at run time
            return
        root = Path(self.root)
        try:
            sys.path.insert(0, str(root / "src"))
            from lime.runtime.gitinfo import commit

            sha = commit(root)
        except Exception:  # never fail a build over build information
            sha = None
        finally:
            sys.path.pop(0)
        if not sha:
            return
        out = Path(tempfile.mkdtemp()) / "_build.json"
        out.write_text(json.dumps({"commit": sha, "built": time.strftime("%Y-%m-%d", time.gmtime())}))
        build_data["force_include"][str(out)] = "lime/_build.json"
