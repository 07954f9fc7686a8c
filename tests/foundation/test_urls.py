"""The shared URL rules: loopback hosts, same origin, endpoint joining that keeps a base URL's query."""

from __future__ import annotations

import pytest

from lime.urls import endpoint_url, is_loopback_host, same_origin

AZURE = "https://h.openai.azure.com/openai/deployments/d?api-version=2024-10-21"


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "localhost.", "127.0.0.1", "127.0.0.2",
                                  "127.255.255.254", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["", None, "0.0.0.0", "10.0.0.1", "128.0.0.1", "::", "example.com",
                                  "127.0.0.1.evil.example", "localhost.evil.example", "evil-localhost",
                                  "127.1", "[::1", "::ffff:10.0.0.1", "localhost:8080"])
def test_hosts_that_only_look_local_are_remote(host: str | None) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize(("a", "b"), [
    ("https://api.example.com/v1", "https://API.example.com:443/other?x=1"),
    ("http://127.0.0.1/v1", "http://127.0.0.1:80"),
    ("http://[::1]:8080/v1", "http://[::1]:8080/models"),
])
def test_same_origin(a: str, b: str) -> None:
    assert same_origin(a, b) and same_origin(b, a)


@pytest.mark.parametrize(("a", "b"), [
    ("https://api.example.com/v1", "http://api.example.com/v1"),  # a downgrade is another origin
    ("https://api.example.com/v1", "https://api.example.com:8443/v1"),
    ("https://api.example.com/v1", "https://api.example.com.evil.example/v1"),
    ("https://api.example.com/v1", "https://evil.example/@api.example.com/v1"),
    ("https://user@api.example.com/v1", "https://api.example.com@evil.example/v1"),
    ("https://api.example.com:99999/v1", "https://api.example.com:99999/v1"),  # malformed: never equal
    ("not a url", "not a url"),
])
def test_other_origins(a: str, b: str) -> None:
    assert not same_origin(a, b)


def test_endpoint_url_keeps_the_base_query_on_every_endpoint() -> None:
    assert endpoint_url(AZURE, "chat/completions") == (
        "https://h.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21")
    assert endpoint_url(AZURE, "models") == (
        "https://h.openai.azure.com/openai/deployments/d/models?api-version=2024-10-21")
    assert endpoint_url(AZURE, "/props?x=1") == (
        "https://h.openai.azure.com/openai/deployments/d/props?api-version=2024-10-21&x=1")


@pytest.mark.parametrize(("base", "want"), [
    ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1/chat/completions"),
    ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1/chat/completions"),
    ("https://h", "https://h/chat/completions"),
    ("https://h/v1?a=1#frag", "https://h/v1/chat/completions?a=1"),
])
def test_endpoint_url_plain_bases(base: str, want: str) -> None:
    assert endpoint_url(base, "chat/completions") == want
