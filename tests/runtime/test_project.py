"""Project discovery, folder trust and AGENTS.md: what a repository may contribute, and when."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lime.errors import ConfigError
from lime.runtime import project as projects
from lime.runtime import prompt as prompts


def system_prompt(system: str | None, p: projects.Project, trusted: bool, window: int = 100_000) -> str:
    env = prompts.Environment("/w", "/w", None, "Linux", "/bin/sh", "2026-01-01", "default", "off")
    return prompts.assemble(prompts.Inputs(p, trusted, None, system, env), tools=None, window=window).text


@pytest.fixture
def repo(tmp_path: Path, lime_home: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    return root


def test_discovery_stops_at_the_git_root(repo: Path, tmp_path: Path) -> None:
    (tmp_path / ".lime").mkdir()  # above the repository: never this project's
    (tmp_path / "AGENTS.md").write_text("outside\n")
    sub = repo / "pkg" / "mod"
    sub.mkdir(parents=True)
    (repo / "AGENTS.md").write_text("root\n")
    (repo / "pkg" / "AGENTS.local.md").write_text("pkg local\n")
    (repo / "pkg" / ".lime.json").write_text("{}")
    p = projects.discover(sub)
    assert p.root == repo.resolve() and p.lime_dir is None
    assert p.lime_json == (repo / "pkg" / ".lime.json").resolve()
    assert p.agents == [(repo / "AGENTS.md").resolve(), (repo / "pkg" / "AGENTS.local.md").resolve()]
    text = system_prompt(None, p, True)
    assert text.index("root") < text.index("pkg local") and "outside" not in text
    assert "## AGENTS.md" in text and "## pkg/AGENTS.local.md" in text


def test_outside_git_only_the_working_directory_counts(tmp_path: Path, lime_home: Path) -> None:
    (tmp_path / ".lime").mkdir()
    cwd = tmp_path / "here"
    cwd.mkdir()
    p = projects.discover(cwd)
    assert p.root == cwd.resolve() and p.files == []


def test_the_config_home_is_never_a_project_dot_lime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / ".lime"
    home.mkdir()
    monkeypatch.setenv("LIME_CONFIG_HOME", str(home))
    assert projects.discover(tmp_path).lime_dir is None


def test_symlinks_are_refused(repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY\n")
    (repo / "AGENTS.md").symlink_to(secret)
    (repo / ".lime").symlink_to(tmp_path)
    p = projects.discover(repo)
    assert p.agents == [] and p.lime_dir is None
    assert len(p.refused) == 2 and all("link" in r for r in p.refused)
    assert "PRIVATE KEY" not in system_prompt(None, p, True)


def test_sessions_dir_needs_trust_and_no_symlink(repo: Path, lime_home: Path, tmp_path: Path) -> None:
    (repo / ".lime").mkdir()
    p = projects.discover(repo)
    assert projects.sessions_dir(p, False) == (lime_home / "sessions", None)
    assert projects.sessions_dir(p, True) == ((repo / ".lime" / "sessions").resolve(), None)
    (repo / ".lime" / "sessions").symlink_to(tmp_path)
    where, why = projects.sessions_dir(p, True)
    assert where == lime_home / "sessions" and why is not None and "symbolic link" in why


def test_trust_is_remembered_and_covers_subfolders(repo: Path, lime_home: Path) -> None:
    assert not projects.is_trusted(repo)
    projects.remember(repo)
    projects.remember(repo)
    assert projects.is_trusted(repo) and projects.is_trusted(repo / "sub")
    assert not projects.is_trusted(repo.parent)
    assert json.loads((lime_home / "trusted-folders.json").read_text()) == {"trusted": [str(repo)]}
    (lime_home / "trusted-folders.json").write_text("[1, 2")
    with pytest.raises(ConfigError, match=r"trusted-folders.json is not valid JSON \(line 1, column 6"):
        projects.is_trusted(repo)


def test_trust_file_is_read_like_every_config_file(repo: Path, lime_home: Path) -> None:
    """A FIFO or an oversized trusted-folders.json is one clear error, never a hang or a huge read."""
    import os
    import threading

    lime_home.mkdir(parents=True, exist_ok=True)
    path = lime_home / "trusted-folders.json"
    path.write_text('{"trusted": ["' + "x" * (9 << 20) + '"]}')
    with pytest.raises(ConfigError, match="trusted-folders.json is larger than"):
        projects.is_trusted(repo)
    path.unlink()
    os.mkfifo(path)
    outcome: list[BaseException | bool] = []

    def check() -> None:
        try:
            outcome.append(projects.is_trusted(repo))
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=check, daemon=True)
    worker.start()
    worker.join(5)
    if worker.is_alive():  # blocked on the FIFO: release it so the test run goes on
        with open(path, "w"):
            pass
        worker.join(5)
        pytest.fail("reading trusted-folders.json blocked on a FIFO")
    assert isinstance(outcome[0], ConfigError) and "not a regular file" in str(outcome[0])


def test_system_prompt_layers_agents_only_when_trusted_and_cuts_them_visibly(repo: Path) -> None:
    budget = prompts.BUDGETS["project"][0]
    (repo / "AGENTS.md").write_text("x" * (budget + 10))
    p = projects.discover(repo)
    untrusted = system_prompt("Be brief.", p, False)
    assert untrusted.startswith(prompts.BASE) and untrusted.endswith("Be brief.") and "xxx" not in untrusted
    prompt = system_prompt("Be brief.", p, True)
    assert prompt.index("# Environment") < prompt.index("# Project instructions") < prompt.index("Be brief.")
    assert f"AGENTS.md: cut to {budget:,} of {budget + 10:,} bytes" in prompt
    assert len(prompt) < budget + len(prompts.BASE) + 1000
    # A small window gets the compact form with a smaller budget, still cut visibly.
    small = system_prompt(None, p, True, window=2048)
    assert small.startswith(prompts.COMPACT_BASE) and "# Environment" not in small
    assert "AGENTS.md: cut to" in small and len(small) < 3000
