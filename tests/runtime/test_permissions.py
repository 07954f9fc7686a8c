"""Permission modes and --allowedTools, as a decision table."""

from __future__ import annotations

import pytest

from lime.errors import UsageError
from lime.runtime.permissions import Policy
from lime.runtime.tools import TOOLS

R, W, E, S = TOOLS["read_file"], TOOLS["write_file"], TOOLS["edit_file"], TOOLS["bash"]


@pytest.mark.parametrize(("mode", "expected"), [
    ("default", ("allow", "ask", "ask", "ask")),
    ("plan", ("allow", "deny", "deny", "deny")),
    ("acceptEdits", ("allow", "allow", "allow", "ask")),
    ("bypassPermissions", ("allow", "allow", "allow", "allow")),
    ("dontAsk", ("allow", "deny", "deny", "deny")),
])
def test_modes(mode: str, expected: tuple[str, ...]) -> None:
    p = Policy.from_args(mode, False, [])
    assert tuple(p.decide(t, "x") for t in (R, W, E, S)) == expected


def test_allowed_tools_with_patterns_and_aliases() -> None:
    p = Policy.from_args("dontAsk", False, ["Edit, Bash(git diff:*)"])
    assert p.decide(E, "a.py") == "allow" and p.decide(W, "a.py") == "allow"
    assert p.decide(S, "git diff --stat") == "allow"
    assert p.decide(S, "rm -rf /") == "deny"
    assert Policy.from_args(None, False, ["shell"]).decide(S, "anything") == "allow"


def test_skip_permissions_and_plan_offers_only_read_tools() -> None:
    assert Policy.from_args(None, True, []).mode == "bypassPermissions"
    with pytest.raises(UsageError):
        Policy.from_args("plan", True, [])
    with pytest.raises(UsageError, match="unknown tool"):
        Policy.from_args(None, False, ["Frobnicate"])
    assert {t.name for t in Policy.from_args("plan", False, []).offered()} == {"read_file", "glob_search", "grep_search"}
