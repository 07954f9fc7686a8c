"""Keys go only where they belong: the service they were stored or configured for, over the wire."""

from __future__ import annotations

import json
import subprocess
import sys

from support.fakeserver import error, reply

from .conftest import KEY, Lime

OPENAI_KEY = "sk-openai-user-key-0000000000000000aaaa"


def login(lime: Lime, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lime", "login", "--provider", "openai-compat", *args],
                          input=key if key is not None else "", capture_output=True, text=True, env=lime.env,
                          timeout=60)


def test_keyless_registration_sends_no_key_even_with_openai_api_key_set(lime: Lime) -> None:
    res = login(lime, "--service", "tp", "--with-base-url", lime.server.base_url)
    assert res.returncode == 0 and "Stored no key" in res.stdout
    lime.add_model("tp-model", service="tp")
    lime.server.enqueue(reply("hi"))
    proc = lime.run("--model", "tp-model", "-p", "hello", OPENAI_API_KEY=OPENAI_KEY)
    assert proc.returncode == 0, proc.stderr
    assert "authorization" not in lime.server.last.headers
    assert OPENAI_KEY not in lime.server.last.body.decode()


def test_key_env_names_the_variable_read_at_request_time(lime: Lime) -> None:
    res = login(lime, "--service", "tp", "--with-base-url", lime.server.base_url, "--key-env", "OPENAI_API_KEY")
    assert res.returncode == 0, res.stderr
    assert "OPENAI_API_KEY" in res.stdout
    stored = json.loads((lime.home / "credentials.json").read_text())["buckets"]["openai_compat:tp"]
    assert stored == {"api_key": "", "base_url": lime.server.base_url, "key_env": "OPENAI_API_KEY"}
    lime.add_model("tp-model", service="tp")
    status = lime.run("--model", "tp-model", "status", OPENAI_API_KEY=OPENAI_KEY)
    assert "env OPENAI_API_KEY (named by bucket openai_compat:tp)" in status.stdout
    lime.server.enqueue(reply("one"), reply("two"))
    assert lime.run("--model", "tp-model", "-p", "a", OPENAI_API_KEY=OPENAI_KEY).returncode == 0
    assert lime.server.last.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    # read at each run, never stored: a new value is used at once
    assert lime.run("--model", "tp-model", "-p", "b", OPENAI_API_KEY=OPENAI_KEY + "2").returncode == 0
    assert lime.server.last.headers["authorization"] == f"Bearer {OPENAI_KEY}2"
    assert OPENAI_KEY not in (lime.home / "credentials.json").read_text()
    # unset: a clear error naming the variable, nothing sent
    before = len(lime.server.requests)
    proc = lime.run("--model", "tp-model", "-p", "c")
    assert proc.returncode != 0 and "OPENAI_API_KEY is not set" in proc.stderr
    assert len(lime.server.requests) == before


def test_a_stored_openai_key_is_not_sent_to_openai_base_url(lime: Lime) -> None:
    res = subprocess.run([sys.executable, "-m", "lime", "login", "--provider", "openai", "--with-api-key"],
                         input=OPENAI_KEY, capture_output=True, text=True, env=lime.env, timeout=60)
    assert res.returncode == 0, res.stderr
    lime.server.enqueue(reply("x"))
    proc = lime.run("--model", "gpt-5.4", "-p", "hi", OPENAI_BASE_URL=lime.server.base_url)
    assert proc.returncode != 0 and lime.server.requests == []
    assert "belongs to https://api.openai.com/v1" in proc.stderr and OPENAI_KEY not in proc.stderr
    # the variable pair OpenAI's own tools honour still works
    proc = lime.run("--model", "gpt-5.4", "-p", "hi", OPENAI_BASE_URL=lime.server.base_url,
                    OPENAI_API_KEY=OPENAI_KEY + "-env")
    assert proc.returncode == 0, proc.stderr
    assert lime.server.last.headers["authorization"] == f"Bearer {OPENAI_KEY}-env"


def test_userinfo_in_a_base_url_is_refused_at_login(lime: Lime) -> None:
    url = lime.server.base_url.replace("http://", "http://user:hunter2pw@")
    res = login(lime, "--service", "tp", "--with-base-url", url, "--with-api-key", key="sk-some-key-0000000000")
    assert res.returncode == 2 and "user name or password" in res.stderr
    assert "hunter2pw" not in res.stderr + res.stdout and len(res.stderr.strip().splitlines()) == 1
    assert "openai_compat:tp" not in (lime.home / "credentials.json").read_text()


def test_userinfo_stored_by_an_older_lime_is_refused_not_sent(lime: Lime) -> None:
    path = lime.home / "credentials.json"
    data = json.loads(path.read_text())
    data["buckets"]["openai_compat:fake"]["base_url"] = lime.server.base_url.replace("http://", "http://u:pw1234@")
    path.write_text(json.dumps(data))
    for args in (("status",), ("model", "list"), ("-p", "hi")):
        proc = lime.run(*args)
        assert "pw1234" not in proc.stdout + proc.stderr, args
    assert lime.server.requests == []


def test_server_echoing_the_middle_of_the_key_is_masked(lime: Lime) -> None:
    lime.server.enqueue(error(401, {"error": {"message": f"bad key ...{KEY[3:15]}... rejected", "code": "x"}}))
    proc = lime.run("-p", "hi")
    assert proc.returncode != 0 and "rejected" in proc.stderr
    for i in range(len(KEY) - 7):
        assert KEY[i:i + 8] not in proc.stderr


def test_control_characters_in_a_key_are_refused_at_login(lime: Lime) -> None:
    for key in ("sk-abc\x00defghijklmnop", "sk-abc\x1bdefghijklmnop", "sk-abcdéfghijklmnop"):
        res = login(lime, "--service", "tp", "--with-base-url", lime.server.base_url, "--with-api-key", key=key)
        assert res.returncode == 2 and "refused the API key" in res.stderr, res.stderr
        assert "abcdefgh" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    raw = subprocess.run([sys.executable, "-m", "lime", "login", "--provider", "openai-compat", "--service", "tp",
                          "--with-base-url", lime.server.base_url, "--with-api-key"], input=b"sk-\xff\xfe-key-0000000",
                         capture_output=True, env=lime.env, timeout=60)
    assert raw.returncode == 2 and b"not valid UTF-8" in raw.stderr and b"Traceback" not in raw.stderr
    assert "openai_compat:tp" not in (lime.home / "credentials.json").read_text()


def test_plain_http_to_another_host_warns_at_login_and_once_per_run(lime: Lime) -> None:
    res = login(lime, "--service", "far", "--with-base-url", "http://10.255.255.1:9/v1", "--with-api-key",
                key="sk-far-key-000000000000")
    assert res.returncode == 0
    assert res.stderr.count("plain http://") == 1 and "API key" in res.stderr
    res = login(lime, "--service", "near", "--with-base-url", "http://localhost:9/v1", "--with-api-key",
                key="sk-near-key-00000000000")
    assert res.returncode == 0 and "plain http" not in res.stderr
    res = login(lime, "--service", "keyless-far", "--with-base-url", "http://10.255.255.2:9/v1")
    assert res.returncode == 0
    assert "plain http://" in res.stderr and "your conversation crosses the network unencrypted" in res.stderr


def test_plain_http_warning_once_per_run_through_a_local_proxy(lime: Lime) -> None:
    """The "remote" host is reached only through the fake server acting as an HTTP proxy on 127.0.0.1."""
    res = login(lime, "--service", "far", "--with-base-url", "http://lime-remote.invalid/v1", "--with-api-key",
                key="sk-far-key-000000000000")
    assert res.returncode == 0
    lime.add_model("far-model", service="far")
    lime.server.enqueue(reply("one"), reply("two"))
    env = {k: v for k, v in lime.env.items() if k.lower() not in ("no_proxy", "http_proxy", "all_proxy")}
    proc = subprocess.run([sys.executable, "-m", "lime", "--model", "far-model", "-p", "hi"], capture_output=True,
                          text=True, env={**env, "HTTP_PROXY": f"http://127.0.0.1:{lime.server.port}"},
                          timeout=60, stdin=subprocess.DEVNULL, cwd=lime.cwd)
    assert proc.returncode == 0, proc.stderr
    assert lime.server.last.path.startswith("http://lime-remote.invalid/v1")
    assert proc.stderr.count("plain http://") == 1 and proc.stdout == "one\n"


def test_an_error_echoing_another_services_key_is_masked(lime: Lime) -> None:
    groq_key = "gsk_other_service_key_0000000077"
    res = login(lime, "--service", "groq", "--with-api-key", key=groq_key)
    assert res.returncode == 0
    lime.server.enqueue(error(400, {"error": {"message": f"odd: {groq_key[2:20]} and {KEY[5:17]}"}}))
    proc = lime.run("-p", "hi", MISTRAL_API_KEY="mistral-env-key-000000000099")
    assert proc.returncode != 0 and "odd:" in proc.stderr
    for secret in (groq_key, KEY):
        assert all(secret[i:i + 8] not in proc.stderr for i in range(len(secret) - 7))


def test_a_key_the_model_repeats_is_masked_on_screen_and_in_the_session(lime: Lime) -> None:
    from support.fakeserver import text_stream

    lime.server.enqueue(text_stream(f"Your key is {KEY}, keep it safe.", chunks=9))
    proc = lime.run("-p", "what was my key?")  # Lime.run itself asserts the key never reaches the output
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Your key is ") and proc.stdout.endswith(", keep it safe.\n")
    (path,) = lime.sessions()
    assert KEY not in path.read_text()
