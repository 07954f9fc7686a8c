"""An MCP server behind OAuth, stdlib only, for lime's tests: ``oauth_server.py PORT``.

It is its own authorization server (metadata, dynamic registration, an /authorize that approves at
once and redirects with a code, a /token that checks the PKCE verifier and refreshes) and serves
MCP over streamable HTTP (JSON answers) to bearers of a live token. ``POST /revoke`` expires the
current access token, so the next call needs a refresh.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

PORT = int(sys.argv[1])
BASE = f"http://127.0.0.1:{PORT}"
state: dict = {"challenges": {}, "live": set(), "refresh": {}, "n": 0}


class Handler(BaseHTTPRequestHandler):
    def reply(self, status: int, body: object = None, headers: dict | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if url.path.startswith("/.well-known/oauth-protected-resource"):
            self.reply(200, {"resource": f"{BASE}/mcp", "authorization_servers": [BASE]})
        elif url.path == "/.well-known/oauth-authorization-server":
            self.reply(200, {"issuer": BASE, "authorization_endpoint": f"{BASE}/authorize",
                             "token_endpoint": f"{BASE}/token", "registration_endpoint": f"{BASE}/register",
                             "code_challenge_methods_supported": ["S256"]})
        elif url.path == "/authorize":
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                self.reply(400, {"error": "PKCE required"})
                return
            code = f"code-{len(state['challenges'])}"
            state["challenges"][code] = q["code_challenge"]
            self.reply(302, None, {"Location": q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})})
        else:
            self.reply(405 if url.path == "/mcp" else 404, {"error": "no"})

    def do_POST(self) -> None:  # noqa: N802
        size = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(size)
        path = urlsplit(self.path).path
        if path == "/register":
            self.reply(201, {"client_id": "lime-test-client"})
        elif path == "/token":
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            if form.get("grant_type") == "authorization_code":
                challenge = state["challenges"].pop(form.get("code"), None)
                digest = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
                if challenge is None or digest.rstrip(b"=").decode() != challenge:
                    self.reply(400, {"error": "invalid_grant"})
                    return
            elif form.get("grant_type") != "refresh_token" or form.get("refresh_token") not in state["refresh"]:
                self.reply(400, {"error": "invalid_grant"})
                return
            state["n"] += 1
            access, refresh = f"tok{state['n']}", f"refresh{state['n']}"
            state["live"].add(access)
            state["refresh"][refresh] = access
            self.reply(200, {"access_token": access, "refresh_token": refresh, "expires_in": 3600,
                             "token_type": "Bearer"})
        elif path == "/revoke":
            state["live"].clear()
            self.reply(200, {})
        elif path == "/mcp":
            auth = self.headers.get("Authorization", "")
            bearer = auth[7:] if auth.startswith("Bearer ") else ""
            if bearer not in state["live"]:
                self.reply(401, {"error": "unauthorized"}, {
                    "WWW-Authenticate": f'Bearer resource_metadata="{BASE}/.well-known/oauth-protected-resource"'})
                return
            msg = json.loads(raw)
            if "id" not in msg:
                self.reply(202)
                return
            method = msg.get("method")
            if method == "initialize":
                result: object = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                                  "serverInfo": {"name": "oauth-test", "version": "1"}}
            elif method == "tools/list":
                result = {"tools": [{"name": "whoami", "description": "the token used",
                                     "inputSchema": {"type": "object", "properties": {}}}]}
            else:
                result = {"content": [{"type": "text", "text": f"signed in with token number {bearer[3:]}"}]}
            self.reply(200, {"jsonrpc": "2.0", "id": msg["id"], "result": result})
        else:
            self.reply(404, {"error": "no"})


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
