"""OAuth for remote MCP servers that answer 401: ``lime mcp login NAME`` signs in once
(authorization code with PKCE; the URL is printed and opened in a browser; the answer comes back
to a one-shot listener on 127.0.0.1), tokens are stored 0600 in the config home and refreshed
when they expire or the server refuses them.

Discovery follows the MCP authorization spec: the server's protected-resource metadata (from its
``WWW-Authenticate`` header or the well-known URL) names the authorization server, whose metadata
gives the endpoints; a client is registered dynamically unless the entry's ``oauth`` gives a
``clientId``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from lime.mcp.rpc import McpError

TOKENS_FILE = "mcp-oauth.json"
LOGIN_WAIT = 300.0


def path() -> Path:
    from lime import config

    return config.config_home() / TOKENS_FILE


def _key(url: str) -> str:
    return url.rstrip("/")


def stored(url: str) -> dict[str, Any] | None:
    from lime.mcp.config import read

    data = read(path()) or {}
    entry = data.get("servers", {}).get(_key(url)) if isinstance(data.get("servers"), dict) else None
    return entry if isinstance(entry, dict) else None


def _store(url: str, entry: dict[str, Any] | None) -> None:
    from lime.mcp.config import edit

    def change(data: dict[str, Any]) -> None:
        servers = data.setdefault("servers", {})
        if entry is None:
            servers.pop(_key(url), None)
        else:
            servers[_key(url)] = entry

    edit(path(), change)


def _client() -> Any:
    from lime.providers.openai_compat.httplib import httpx

    return httpx.Client(timeout=15.0, follow_redirects=False, trust_env=False, headers={"User-Agent": "lime-mcp"})


def _json(resp: Any, what: str) -> dict[str, Any]:
    if resp.status_code >= 400:
        raise McpError(f"{what} failed (HTTP {resp.status_code})")
    try:
        data = resp.json()
    except ValueError:
        raise McpError(f"{what}: the answer is not JSON") from None
    if not isinstance(data, dict):
        raise McpError(f"{what}: the answer is not a JSON object")
    return data


def resource_metadata_url(www_authenticate: str | None, url: str) -> list[str]:
    import re

    out = []
    if www_authenticate:
        m = re.search(r'resource_metadata="([^"]+)"', www_authenticate)
        if m:
            out.append(m.group(1))
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    out += [f"{origin}/.well-known/oauth-protected-resource{parts.path.rstrip('/')}",
            f"{origin}/.well-known/oauth-protected-resource"]
    return out


def discover(url: str, www_authenticate: str | None, http: Any) -> tuple[dict[str, Any], str]:
    """(authorization server metadata, resource URL)."""
    issuer = None
    resource = url
    for candidate in resource_metadata_url(www_authenticate, url):
        try:
            resp = http.get(candidate)
        except Exception:
            continue
        if resp.status_code == 200:
            meta = _json(resp, "reading the server's protected-resource metadata")
            servers = meta.get("authorization_servers")
            if isinstance(servers, list) and servers and isinstance(servers[0], str):
                issuer = servers[0]
            if isinstance(meta.get("resource"), str):
                resource = meta["resource"]
            break
    if issuer is None:
        parts = urlsplit(url)
        issuer = f"{parts.scheme}://{parts.netloc}"
    parts = urlsplit(issuer)
    origin, tail = f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")
    for candidate in (f"{origin}/.well-known/oauth-authorization-server{tail}",
                      f"{origin}/.well-known/openid-configuration{tail}",
                      f"{issuer.rstrip('/')}/.well-known/openid-configuration"):
        try:
            resp = http.get(candidate)
        except Exception:
            continue
        if resp.status_code == 200:
            meta = _json(resp, "reading the authorization server's metadata")
            if isinstance(meta.get("authorization_endpoint"), str) and isinstance(meta.get("token_endpoint"), str):
                return meta, resource
    raise McpError(f"cannot find the authorization server of {url} (no OAuth metadata)")


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class _Callback:
    """A one-shot listener on 127.0.0.1 for the authorization server's redirect."""

    def __init__(self, port: int, state: str) -> None:
        from http.server import BaseHTTPRequestHandler, HTTPServer
        from urllib.parse import parse_qs

        self.state = state
        self.code: str | None = None
        self.error: str | None = None
        self.done = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                query = parse_qs(urlsplit(self.path).query)
                if urlsplit(self.path).path != "/callback" or query.get("state", [""])[0] != outer.state:
                    self.send_response(400)
                    self.end_headers()
                    return
                outer.code = query.get("code", [None])[0]
                outer.error = query.get("error", [None])[0]
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write(b"lime: signed in; you can close this page.\n" if outer.code else
                                 b"lime: sign-in failed; see the terminal.\n")
                outer.done.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def login(url: str, settings: dict[str, Any] | None, say: Callable[[str], None],
          www_authenticate: str | None = None) -> None:
    """Sign in to the server at ``url`` and store its tokens."""
    settings = settings or {}
    with _client() as http:
        meta, resource = discover(url, www_authenticate, http)
        port = settings.get("callbackPort")
        port = port if isinstance(port, int) and 0 < port < 65536 else 0
        state = secrets.token_urlsafe(24)
        callback = _Callback(port, state)
        try:
            redirect = f"http://127.0.0.1:{callback.port}/callback"
            client_id = settings.get("clientId")
            client_secret = settings.get("clientSecret")
            if not isinstance(client_id, str):
                endpoint = meta.get("registration_endpoint")
                if not isinstance(endpoint, str):
                    raise McpError("the authorization server does not register clients; give oauth.clientId in "
                                   "the server's entry")
                reg = _json(http.post(endpoint, json={
                    "client_name": "lime", "redirect_uris": [redirect], "token_endpoint_auth_method": "none",
                    "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]}),
                    "registering lime with the authorization server")
                client_id, client_secret = reg.get("client_id"), reg.get("client_secret")
                if not isinstance(client_id, str):
                    raise McpError("the authorization server registered no client_id")
            verifier, challenge = _pkce()
            query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect, "state": state,
                     "code_challenge": challenge, "code_challenge_method": "S256", "resource": resource}
            scope = settings.get("scopes") or settings.get("scope") or meta.get("scopes_supported")
            if isinstance(scope, list):
                scope = " ".join(s for s in scope if isinstance(s, str))
            if isinstance(scope, str) and scope:
                query["scope"] = scope
            auth_url = meta["authorization_endpoint"] + ("&" if "?" in meta["authorization_endpoint"] else "?") + \
                urlencode(query)
            say(f"open this URL to sign in (lime waits for the answer on 127.0.0.1:{callback.port}):\n{auth_url}")
            import webbrowser

            with contextlib.suppress(Exception):
                webbrowser.open(auth_url)
            if not callback.done.wait(LOGIN_WAIT):
                raise McpError(f"no answer from the browser within {LOGIN_WAIT:g} s")
            if not callback.code:
                raise McpError(f"the authorization server refused the sign-in ({callback.error or 'no code'})")
            form = {"grant_type": "authorization_code", "code": callback.code, "redirect_uri": redirect,
                    "client_id": client_id, "code_verifier": verifier, "resource": resource}
            if isinstance(client_secret, str):
                form["client_secret"] = client_secret
            tokens = _json(http.post(meta["token_endpoint"], data=form), "exchanging the code for a token")
        finally:
            callback.close()
    _save(url, tokens, meta["token_endpoint"], client_id, client_secret if isinstance(client_secret, str) else None)


def _save(url: str, tokens: dict[str, Any], token_endpoint: str, client_id: str, secret: str | None) -> None:
    access = tokens.get("access_token")
    if not isinstance(access, str) or not access:
        raise McpError("the authorization server gave no access token")
    expires = tokens.get("expires_in")
    entry = {"access_token": access, "token_endpoint": token_endpoint, "client_id": client_id,
             "expires_at": time.time() + float(expires) if isinstance(expires, int | float) else None}
    if isinstance(tokens.get("refresh_token"), str):
        entry["refresh_token"] = tokens["refresh_token"]
    elif (previous := stored(url)) and isinstance(previous.get("refresh_token"), str):
        entry["refresh_token"] = previous["refresh_token"]
    if secret:
        entry["client_secret"] = secret
    _store(url, entry)


def token(url: str, *, refresh: bool = False) -> str | None:
    """The access token for ``url``: stored, refreshed first when it expired (or ``refresh``)."""
    entry = stored(url)
    if entry is None:
        return None
    expires = entry.get("expires_at")
    expired = isinstance(expires, int | float) and expires < time.time() + 30
    if (refresh or expired) and isinstance(entry.get("refresh_token"), str):
        form = {"grant_type": "refresh_token", "refresh_token": entry["refresh_token"],
                "client_id": entry.get("client_id", "")}
        if isinstance(entry.get("client_secret"), str):
            form["client_secret"] = entry["client_secret"]
        try:
            with _client() as http:
                tokens = _json(http.post(entry["token_endpoint"], data=form), "refreshing the token")
        except (McpError, Exception):
            return None
        _save(url, tokens, entry["token_endpoint"], entry.get("client_id", ""), entry.get("client_secret"))
        entry = stored(url) or {}
    elif refresh or expired:
        return None
    value = entry.get("access_token")
    return value if isinstance(value, str) else None


def forget(url: str) -> None:
    _store(url, None)
