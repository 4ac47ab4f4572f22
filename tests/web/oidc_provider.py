"""A small but real OpenID Connect provider for the tests: discovery, JWKS, /authorize and /token over HTTP.

It signs RS256 ID tokens with an RSA key of its own, checks the client secret (Basic), the redirect URI, the
PKCE verifier (S256) and that a code is used once, as Entra ID, Keycloak or Okta do. /authorize approves at once
for `user` (a dict of claims: sub, preferred_username, groups...). `tamper` changes what the next ID tokens
say or how they are signed, to play a broken or hostile provider.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlencode

import httpx
import uvicorn
from fastapi import FastAPI, Form, Header, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.jwk import RSAKey

from api.fixtures import free_port

CLIENT_ID = "interdit-dashboard"
CLIENT_SECRET = "s3cr3t+with/odd=chars~"


@dataclass
class Provider:
    base: str = ""
    redirect_uris: set[str] = field(default_factory=set)
    user: dict[str, Any] = field(default_factory=dict)
    tamper: dict[str, Any] = field(default_factory=dict)
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "key-1"}))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    jwks_fetches: int = 0
    token_requests: int = 0

    def rotate(self, kid: str) -> None:
        """A new signing key under a new key id; the old one is no longer published."""
        self.key = RSAKey.generate_key(2048, parameters={"kid": kid})

    def id_token(self, grant: dict[str, Any]) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.base, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                                  "nonce": grant["nonce"], **grant["user"]}
        for name, value in self.tamper.items():
            if name in ("sign_with", "alg"):
                continue
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = self.tamper.get("sign_with", self.key)
        header = {"alg": self.tamper.get("alg", "RS256"), "kid": key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, key)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _client_of(authorization: str) -> tuple[str, str] | None:
    """client_secret_basic as RFC 6749 2.3.1 has it: both parts form-encoded, then base64."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except ValueError:
        return None
    return (unquote_plus(user), unquote_plus(password)) if sep else None


def make_app(p: Provider) -> FastAPI:
    app = FastAPI()

    @app.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        return {"issuer": p.base, "authorization_endpoint": p.base + "/authorize",
                "token_endpoint": p.base + "/token", "jwks_uri": p.base + "/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "code_challenge_methods_supported": ["S256"]}

    @app.get("/jwks")
    def jwks() -> dict[str, Any]:
        p.jwks_fetches += 1
        return {"keys": [{**p.key.as_dict(private=False), "use": "sig", "alg": "RS256"}]}

    @app.get("/authorize")
    def authorize(request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("redirect_uri") not in p.redirect_uris:
            return JSONResponse({"error": "invalid_request", "error_description": "unknown client or redirect"},
                                status_code=400)
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256" or "openid" not in (
                q.get("scope") or "").split():
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(24)
        p.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"],
                         "nonce": q.get("nonce", ""), "user": dict(p.user)}
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}",
                                status_code=302)

    @app.post("/token")
    def token(grant_type: str = Form(...), code: str = Form(...), redirect_uri: str = Form(...),
              code_verifier: str = Form(...), authorization: str = Header("")) -> Response:
        p.token_requests += 1
        if _client_of(authorization) != (CLIENT_ID, CLIENT_SECRET):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = p.codes.get(code)
        if grant_type != "authorization_code" or grant is None or code in p.used:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        p.used.add(code)
        if redirect_uri != grant["redirect_uri"] or _b64(hashlib.sha256(code_verifier.encode()).digest()) != \
                grant["challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE or redirect"}, status_code=400)
        return JSONResponse({"access_token": secrets.token_urlsafe(32), "token_type": "Bearer", "expires_in": 300,
                             "id_token": p.id_token(grant)})

    return app


@contextlib.contextmanager
def running_provider() -> Iterator[Provider]:
    """The provider on 127.0.0.1 and a free port, in a thread."""
    provider = Provider()
    port = free_port()
    provider.base = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(make_app(provider), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(provider.base + "/.well-known/openid-configuration", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    else:  # pragma: no cover - only when the provider cannot start
        raise RuntimeError("the test provider did not start")
    provider.jwks_fetches = 0
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)
