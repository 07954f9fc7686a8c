"""The settings files MCP servers are configured in, for one working directory: apart from the
config reader so a chat can see that none exists without loading it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lime.config import TOML_AFTER


@dataclass
class Files:
    """The settings files each scope reads and writes, for one working directory."""

    user: Path
    local: Path
    project: list[Path]  # read in this order; ``lime mcp add --scope project`` writes the last
    root: Path

    @classmethod
    def here(cls, cwd: Path | None = None) -> Files:
        from lime import config

        root = project_root(cwd)
        return cls(config.config_home() / "settings.json", root / ".lime" / "settings.local.json",
                   [root / ".lime.json", root / ".lime" / "settings.json", root / ".mcp.json"], root)

    def for_scope(self, scope: str) -> Path:
        return {"user": self.user, "local": self.local, "project": self.project[-1]}[scope]


def project_root(cwd: Path | None = None) -> Path:
    """The enclosing git work tree's top, or the working directory outside git."""
    here = (cwd or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / ".git").exists():
            return d
    return here




def candidates(files: Files) -> list[tuple[str, Path]]:
    """(scope, file) in reading order: user, project, local, each JSON file followed by its TOML one."""
    order: list[tuple[str, Path]] = [("user", files.user), *(("project", p) for p in files.project),
                                     ("local", files.local)]
    out: list[tuple[str, Path]] = []
    for scope, path in order:
        out.append((scope, path))
        if path.name in TOML_AFTER:
            out.append((scope, path.with_name(TOML_AFTER[path.name])))
    return out
