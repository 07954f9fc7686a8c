"""`lime mcp ...` as a user runs it, against real servers and hostile ones."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .conftest import HOSTILE, SDK_SERVER, Lime, Remote, sdk_remote


def settings(lime: Lime) -> dict:
    return json.loads((lime.home / "settings.json").read_text())


def test_add_list_get_disable_remove_with_the_real_server(lime: Lime, everything: Path) -> None:
    out = lime.run("mcp", "add", "everything", str(everything))
    assert out.returncode == 0, out.stderr
    assert "added stdio MCP server everything (user scope" in out.stdout
    assert settings(lime)["mcpServers"]["everything"] == {"type": "stdio", "command": str(everything),
                                                          "args": [], "env": {}}
    listed = lime.run("mcp", "list")
    row = next(line for line in listed.stdout.splitlines() if line.startswith("everything"))
    assert row.split()[1:3] == ["connected", "stdio"] and int(row.split()[3]) >= 10, listed.stdout
    got = lime.run("mcp", "get", "everything")
    assert "status: connected" in got.stdout and "mcp__everything__echo" in got.stdout
    assert lime.run("mcp", "disable", "everything").returncode == 0
    assert settings(lime)["mcpServers"]["everything"]["disabled"] is True
    assert "disabled" in lime.run("mcp", "list").stdout.splitlines()[1]
    assert lime.run("mcp", "enable", "everything").returncode == 0
    assert "disabled" not in settings(lime)["mcpServers"]["everything"]
    assert lime.run("mcp", "remove", "everything").returncode == 0
    assert settings(lime)["mcpServers"] == {}
    assert "no MCP servers configured" in lime.run("mcp", "list").stdout


def test_add_keeps_options_of_the_server_command_and_env_values_out_of_get(lime: Lime) -> None:
    out = lime.run("mcp", "add", "-e", "TOKEN=s3cret-value", "-e", "REF=${HOME}", "tool", sys.executable,
                   str(SDK_SERVER), "stdio", "-y", "--flag")
    assert out.returncode == 0, out.stderr
    entry = settings(lime)["mcpServers"]["tool"]
    assert entry["args"] == [str(SDK_SERVER), "stdio", "-y", "--flag"]
    assert entry["env"] == {"TOKEN": "s3cret-value", "REF": "${HOME}"}
    assert (lime.home / "settings.json").stat().st_mode & 0o077 == 0
    got = lime.run("mcp", "get", "tool")
    assert "TOKEN=…" in got.stdout and "s3cret-value" not in got.stdout


def test_remote_servers_are_added_with_headers_after_the_url(lime: Lime) -> None:
    out = lime.run("mcp", "add", "--transport", "http", "docs", "http://127.0.0.1:9/mcp",
                   "--header", "Authorization: Bearer ${DOCS_TOKEN}")
    assert out.returncode == 0, out.stderr
    assert settings(lime)["mcpServers"]["docs"] == {"type": "http", "url": "http://127.0.0.1:9/mcp",
                                                    "headers": {"Authorization": "Bearer ${DOCS_TOKEN}"}}
    listed = lime.run("mcp", "list")
    assert "failed" in listed.stdout and "DOCS_TOKEN is not set" in listed.stdout
    assert lime.run("mcp", "add", "--transport", "sse", "s", "http://127.0.0.1:9/sse", "-H", "X: 1").returncode == 0
    assert settings(lime)["mcpServers"]["s"]["headers"] == {"X": "1"}


def test_bad_input_is_one_line(lime: Lime) -> None:
    for args, words in [
        (["add", "a b", "x"], "must be letters"),
        (["add", "mcp__x", "x"], "no '__'"),
        (["add", "--transport", "http", "w", "not-a-url"], "is not a http:// or https:// URL"),
        (["add", "--transport", "sse", "w", "http://x/sse", "extra"], "unrecognized arguments"),
        (["add", "-e", "NOEQUALS", "w", "cmd"], "give KEY=VALUE"),
        (["remove", "nope"], "no MCP server named 'nope'"),
        (["get", "nope"], "no MCP server named 'nope'"),
    ]:
        out = lime.run("mcp", *args)
        assert out.returncode != 0 and words in out.stderr, (args, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert not (lime.home / "settings.json").exists()


def test_broken_settings_file_is_one_line_and_untouched(lime: Lime) -> None:
    lime.home.mkdir(exist_ok=True)
    (lime.home / "settings.json").write_text('{"mcpServers": {"x": {"type": "carrier-pigeon"}}}')
    out = lime.run("mcp", "list")
    assert out.returncode != 0 and "type must be one of" in out.stderr
    assert "carrier-pigeon" in (lime.home / "settings.json").read_text()


def test_project_scope_writes_mcp_json_and_needs_approval(lime: Lime) -> None:
    out = lime.run("mcp", "add", "--scope", "project", "proj", sys.executable, str(HOSTILE), "planted",
                   str(lime.cwd / "marker"))
    assert out.returncode == 0 and "approves them" in out.stdout
    assert "proj" in json.loads((lime.cwd / ".mcp.json").read_text())["mcpServers"]
    listed = lime.run("mcp", "list")
    assert "not approved" in listed.stdout
    assert not (lime.cwd / "marker").exists()
    assert "forgot 0" in lime.run("mcp", "reset-project-choices").stdout


def test_remote_transports_list_their_tools(lime: Lime, remote: list[Remote]) -> None:
    """The SDK's servers here; the real server-everything over both is in test_mcp_chat."""
    lime.run("mcp", "add", "--transport", "http", "sdkhttp", sdk_remote(remote, "http"))
    lime.run("mcp", "add", "--transport", "sse", "sdksse", sdk_remote(remote, "sse"))
    rows = {line.split()[0]: line.split() for line in lime.run("mcp", "list").stdout.splitlines()[1:]}
    assert rows["sdkhttp"][1:4] == ["connected", "http", "11"], rows
    assert rows["sdksse"][1:4] == ["connected", "sse", "11"], rows


def test_hostile_servers_each_fail_in_one_line(lime: Lime) -> None:
    def add(name: str, mode: str, **extra: object) -> None:
        block = settings(lime) if (lime.home / "settings.json").exists() else {"mcpServers": {}}
        block["mcpServers"][name] = {"command": sys.executable, "args": [str(HOSTILE), mode], **extra}
        lime.home.mkdir(exist_ok=True)
        (lime.home / "settings.json").write_text(json.dumps(block))

    add("silent", "silent", startupTimeoutMs=1500)
    add("garbage", "garbage", startupTimeoutMs=1500)
    add("many", "many")
    add("escapes", "escapes")
    add("missing", "x", command="/nonexistent/server")
    out = lime.run("mcp", "list")
    rows = {line.split()[0]: line for line in out.stdout.splitlines()[1:]}
    assert "did not answer initialize within 1.5 s" in rows["silent"]
    assert "failed" in rows["garbage"]
    garbage = lime.run("mcp", "get", "garbage").stdout
    assert "did not answer initialize within 1.5 s (it wrote a line that is not JSON: hello, I am not JSON)" in garbage
    assert rows["many"].split()[1:4] == ["connected", "stdio", "500"]
    assert rows["escapes"].split()[1] == "connected"
    assert "command not found: /nonexistent/server" in rows["missing"]
    got = lime.run("mcp", "get", "escapes")
    assert "\x1b" not in got.stdout and "\x07" not in got.stdout and "\r" not in got.stdout
    assert "mcp__escapes__evil__52_c_aGk__name" in got.stdout


def test_servers_in_a_toml_settings_file(lime: Lime) -> None:
    lime.home.mkdir(exist_ok=True)
    (lime.home / "config.toml").write_text(f'[mcpServers.fromtoml]\ncommand = "{sys.executable}"\n'
                                           f'args = ["{SDK_SERVER}"]\n')
    row = lime.run("mcp", "list").stdout.splitlines()[1].split()
    assert row[:4] == ["fromtoml", "connected", "stdio", "11"]


def test_a_symlinked_lime_dir_is_neither_read_nor_written(lime: Lime, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (lime.cwd / ".lime").symlink_to(elsewhere)
    out = lime.run("mcp", "add", "--scope", "local", "x", sys.executable)
    assert out.returncode != 0 and "is a symbolic link" in out.stderr
    assert list(elsewhere.iterdir()) == []
    (elsewhere / "settings.local.json").write_text(json.dumps({"mcpServers": {"planted": {"command": "true"}}}))
    assert "planted" not in lime.run("--trust", "mcp", "list").stdout
