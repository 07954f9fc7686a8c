"""Service headers: parsed strictly, stored unexpanded, expanded per request, shown masked."""

from __future__ import annotations

import pytest

from lime.auth.headers import HeaderError, describe, expand, mask, parse, request_headers
from lime.errors import ConfigError


def test_parse_and_mask() -> None:
    assert parse("X-Team:  blue ") == ("X-Team", "blue")
    assert parse("x-api-key: ${GW_KEY}") == ("x-api-key", "${GW_KEY}")
    assert mask("blue-team-secret") == "****"
    assert mask("${GW_KEY}") == "${GW_KEY}"
    assert mask("Bearer ${TOKEN}") == "****${TOKEN}"
    assert describe([("X-Team", "blue")], "api-key") == "X-Team: ****; key sent as api-key"


@pytest.mark.parametrize("spec", ["X-A: a\nX-B: b", "X-A: a\rb", "X-A: a\x00", "Bad Name: v", ": v", "X-A:",
                                  "Host: h", "transfer-encoding: chunked", "X-A"])
def test_refused(spec: str) -> None:
    with pytest.raises(HeaderError) as info:
        parse(spec)
    assert "secret" not in str(info.value)


def test_expand_reads_the_environment_at_request_time() -> None:
    assert expand("X-K", "k=${A}-${B}", {"A": "1", "B": "2"}) == "k=1-2"
    with pytest.raises(ConfigError, match=r"needs \$\{MISSING\}"):
        expand("X-K", "${MISSING}", {})
    with pytest.raises(ConfigError, match="line break"):
        expand("X-K", "${EVIL}", {"EVIL": "a\r\nInjected: 1"})


class Cred:
    def __init__(self, key: str | None, headers: tuple[tuple[str, str], ...] = (), auth: str | None = None) -> None:
        self.api_key, self.headers, self.auth_header = key, headers, auth


def test_where_the_key_goes() -> None:
    assert request_headers(Cred("sk-1")) == {"Authorization": "Bearer sk-1"}
    assert request_headers(Cred("k", auth="api-key")) == {"api-key": "k"}
    assert request_headers(Cred(None, (("X-T", "${T}"),)), {"T": "v"}) == {"X-T": "v"}
