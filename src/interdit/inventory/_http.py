"""A small, careful HTTP client for the MDM APIs, the credentials live connectors use and the paging loops they
share (the connectors themselves: `interdit.inventory.live`).

`ApiClient` wraps an injected `httpx.Client` (tests pass one built on `httpx.MockTransport`, or point it at
a local server): it adds a bearer token from a cached `TokenProvider`, retries with exponential backoff on
5xx answers, dropped connections and malformed JSON, honours 429 `Retry-After`, and bounds every call
(attempts, total time, body size). Error messages name the source, the method and the URL without its
query string, never a header, a token or a secret.
"""

from __future__ import annotations

import base64
import email.utils
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from interdit.errors import ConfigError, InputError
from interdit.inventory._common import dig

RETRY_STATUS = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class Limits:
    """Bounds on every API call a connector makes."""

    attempts: int = 5  # per request, the first included
    total_seconds: float = 1800.0  # for the whole sync
    backoff: float = 0.5  # first wait; doubles each retry
    max_backoff: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After fails the sync rather than hanging
    max_body: int = 256 * 1024 * 1024  # bytes per response
    timeout: float = 60.0  # per request (connect, read, write, pool)


def safe_url(url: str | httpx.URL) -> str:
    """The URL without query string or user info: what messages may show."""
    u = httpx.URL(str(url))
    return str(u.copy_with(query=None, fragment=None, userinfo=b""))


class TokenProvider(Protocol):
    def headers(self, api: ApiClient) -> dict[str, str]: ...

    def invalidate(self) -> None: ...


class ApiClient:
    def __init__(self, client: httpx.Client, *, source: str, limits: Limits | None = None,
                 auth: TokenProvider | None = None, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.source = source
        self.limits = limits or Limits()
        self.auth = auth
        self.sleep = sleep
        self.monotonic = monotonic
        self.started = monotonic()
        self.requests = 0
        self.retries = 0

    # -- the one place requests are made -------------------------------------------------------------

    def request(self, method: str, url: str, *, params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None, json_body: Any = None,
                data: Mapping[str, str] | None = None, authenticated: bool = True,
                parse: Callable[[bytes], Any] | None = None) -> tuple[httpx.Response, Any]:
        """Send with retries; returns the response and `parse(body)` (the body bytes when `parse` is None)."""
        where = f"{self.source}: {method} {safe_url(url)}"
        reauthenticated = False
        attempt = 0
        while True:
            attempt += 1
            self._check_time(where)
            send_headers = dict(headers or {})
            if authenticated and self.auth is not None:
                send_headers.update(self.auth.headers(self))
            wait: float | None = None
            reason = ""
            try:
                self.requests += 1
                response, body = self._send(method, url, params, send_headers, json_body, data, where)
            except httpx.TransportError as e:
                reason = f"connection failed ({type(e).__name__})"
                wait = self._backoff(attempt)
            else:
                status = response.status_code
                if status == 401 and authenticated and self.auth is not None and not reauthenticated:
                    self.auth.invalidate()
                    reauthenticated = True
                    attempt -= 1
                    continue
                if status == 429:
                    reason = "throttled (HTTP 429)"
                    wait = self._retry_after(response, attempt, where)
                elif status in RETRY_STATUS:
                    reason = f"server error (HTTP {status})"
                    wait = self._backoff(attempt)
                elif status in (401, 403):
                    raise ConfigError(f"the server refused the credentials (HTTP {status})", where=where,
                                      fix="check the client id, the secret and the API permissions the "
                                          "connector needs (see docs/connectors.md)")
                elif 300 <= status < 400:
                    raise InputError(f"the server redirected to another address (HTTP {status})", where=where,
                                     fix="use the final address in the source's URL setting; credentials are never "
                                         "sent to an address they were not configured for")
                elif status >= 400:
                    raise InputError(f"the server answered HTTP {status}", where=where,
                                     fix="check the source's URL and settings (interdit sources test NAME)")
                else:
                    if parse is None:
                        return response, body
                    try:
                        return response, parse(body)
                    except (ValueError, UnicodeDecodeError) as e:
                        reason = f"malformed response ({str(e)[:80]})"
                        wait = self._backoff(attempt)
            if attempt >= self.limits.attempts:
                raise InputError(f"gave up after {attempt} attempts: {reason}", where=where,
                                 fix="the MDM service is failing or throttling; try again later, or raise "
                                     "the attempts limit of the source")
            self.retries += 1
            self._check_time(where, wait)
            self.sleep(wait)

    def get_json(self, url: str, *, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> Any:
        return self.request("GET", url, params=params, headers={"Accept": "application/json", **(headers or {})},
                            parse=json.loads)[1]

    def post_json(self, url: str, body: Any, *, headers: Mapping[str, str] | None = None) -> Any:
        return self.request("POST", url, json_body=body, headers={"Accept": "application/json", **(headers or {})},
                            parse=lambda b: json.loads(b) if b.strip() else None)[1]

    def get_bytes(self, url: str, *, authenticated: bool = True) -> bytes:
        body = self.request("GET", url, authenticated=authenticated)[1]
        assert isinstance(body, bytes)
        return body

    def download(self, url: str, target: Path, *, max_bytes: int, authenticated: bool = False) -> int:
        """Stream a (large) file to `target`, bounded by `max_bytes`; retried like every request."""
        where = f"{self.source}: GET {safe_url(url)}"
        attempt = 0
        while True:
            attempt += 1
            self._check_time(where)
            headers = self.auth.headers(self) if authenticated and self.auth is not None else {}
            try:
                with self.client.stream("GET", url, headers=headers, timeout=httpx.Timeout(self.limits.timeout)) as r:
                    if r.status_code == 200:
                        size = 0
                        with target.open("wb") as fh:
                            for chunk in r.iter_bytes():
                                size += len(chunk)
                                if size > max_bytes:
                                    raise InputError(f"the download exceeds {max_bytes:,} bytes", where=where,
                                                     fix="check the export; it is larger than any expected fleet")
                                fh.write(chunk)
                        return size
                    reason = f"HTTP {r.status_code}"
                    if r.status_code not in RETRY_STATUS and r.status_code != 429:
                        raise InputError(f"the download answered {reason}", where=where,
                                         fix="run the sync again; the export link may have expired")
            except httpx.TransportError as e:
                reason = f"connection failed ({type(e).__name__})"
            if attempt >= self.limits.attempts:
                raise InputError(f"gave up after {attempt} attempts: {reason}", where=where,
                                 fix="the download keeps failing; try again later")
            self.retries += 1
            wait = self._backoff(attempt)
            self._check_time(where, wait)
            self.sleep(wait)

    # -- internals ------------------------------------------------------------------------------------

    def _send(self, method: str, url: str, params: Mapping[str, Any] | None, headers: dict[str, str],
              json_body: Any, data: Mapping[str, str] | None, where: str) -> tuple[httpx.Response, bytes]:
        timeout = httpx.Timeout(self.limits.timeout)
        request = self.client.build_request(method, url, params=params, headers=headers, json=json_body,
                                            data=data, timeout=timeout)
        response = self.client.send(request, stream=True)
        try:
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.limits.max_body:
                raise InputError(f"the response is {int(declared):,} bytes, over the {self.limits.max_body:,} limit",
                                 where=where, fix="ask for smaller pages, or raise the source's size limit")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.limits.max_body:
                    raise InputError(f"the response exceeds the {self.limits.max_body:,}-byte limit", where=where,
                                     fix="ask for smaller pages, or raise the source's size limit")
                chunks.append(chunk)
        finally:
            response.close()
        return response, b"".join(chunks)

    def _backoff(self, attempt: int) -> float:
        return float(min(self.limits.max_backoff, self.limits.backoff * (2 ** (attempt - 1))))

    def _retry_after(self, response: httpx.Response, attempt: int, where: str) -> float:
        value = response.headers.get("retry-after", "").strip()
        wait: float | None = None
        if value.isdigit():
            wait = float(value)
        elif value:
            try:
                when = email.utils.parsedate_to_datetime(value)
                wait = max(0.0, (when - datetime.now(UTC)).total_seconds())
            except (TypeError, ValueError):
                wait = None
        if wait is None:
            return self._backoff(attempt)
        if wait > self.limits.max_retry_after:
            raise InputError(f"throttled: the server asks to wait {wait:.0f} s (over the "
                             f"{self.limits.max_retry_after:.0f} s limit)", where=where,
                             fix="run the sync again later, outside the service's busy hours")
        return wait

    def _check_time(self, where: str, wait: float = 0.0) -> None:
        spent = self.monotonic() - self.started
        if spent + wait > self.limits.total_seconds:
            raise InputError(f"the sync ran out of time ({self.limits.total_seconds:.0f} s allowed)", where=where,
                             fix="raise the source's time limit, or sync outside the service's busy hours")


class ClientCredentials:
    """OAuth 2.0 client-credentials grant (Microsoft identity platform, Jamf Pro API clients, ...).

    The token is cached until a minute before it expires; a 401 drops it and fetches a new one once.
    """

    def __init__(self, token_url: str, client_id: str, secret: str, *, scope: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = secret
        self.scope = scope
        self.clock = clock
        self._token: str | None = None
        self._expires = 0.0

    def __repr__(self) -> str:
        return f"ClientCredentials({safe_url(self.token_url)!r}, client_id={self.client_id!r})"

    def headers(self, api: ApiClient) -> dict[str, str]:
        if self._token is None or self.clock() >= self._expires:
            form = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self._secret}
            if self.scope:
                form["scope"] = self.scope
            self._store(api, form)
        return {"Authorization": f"Bearer {self._token}"}

    def _store(self, api: ApiClient, form: Mapping[str, str]) -> None:
        _, body = api.request("POST", self.token_url, data=form, authenticated=False, parse=json.loads)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ConfigError("the token endpoint answered without an access_token",
                              where=f"{api.source}: POST {safe_url(self.token_url)}",
                              fix="check the tenant and the client id")
        expires_in = body.get("expires_in", 3600)
        seconds = float(expires_in) if isinstance(expires_in, int | float | str) and str(expires_in).isdigit() \
            else 3600.0
        self._token = token
        self._expires = self.clock() + max(0.0, seconds - 60)

    def invalidate(self) -> None:
        self._token = None


class GoogleServiceAccount(ClientCredentials):
    """A Google service account: a signed RS256 JWT exchanged for an access token (RFC 7523)."""

    GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

    def __init__(self, key_json: str, scope: str, *, subject: str | None = None, token_url: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        try:
            key = json.loads(key_json)
            email_, pem, token_uri = key["client_email"], key["private_key"], key.get("token_uri")
        except (ValueError, KeyError, TypeError):
            raise ConfigError("the credentials are not a Google service-account key (JSON with client_email "
                              "and private_key)", fix="download a JSON key for the service account from the "
                              "Google Cloud console and give it with --secret-file") from None
        if token_url is None:  # a setting overrides the key's own token_uri
            token_url = token_uri or "https://oauth2.googleapis.com/token"
        super().__init__(token_url, email_, "", scope=scope, clock=clock)
        self._pem = pem
        self.subject = subject

    def headers(self, api: ApiClient) -> dict[str, str]:
        if self._token is None or self.clock() >= self._expires:
            self._store(api, {"grant_type": self.GRANT, "assertion": self.assertion()})
        return {"Authorization": f"Bearer {self._token}"}

    def assertion(self) -> str:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        now = int(self.clock())
        claims: dict[str, Any] = {"iss": self.client_id, "scope": self.scope, "aud": self.token_url,
                                  "iat": now, "exp": now + 3600}
        if self.subject:
            claims["sub"] = self.subject
        header = {"alg": "RS256", "typ": "JWT"}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}".encode()
        try:
            key = serialization.load_pem_private_key(self._pem.encode(), password=None)
        except (ValueError, TypeError):
            raise ConfigError("the service-account private key cannot be read",
                              fix="download a new JSON key for the service account") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigError("the service-account key is not an RSA key", fix="use a Google service-account key")
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode()}.{_b64(signature)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class BasicAuth:
    """HTTP Basic credentials (Workspace ONE, Ivanti EPMM, Headwind): `user:password` as the secret."""

    def __init__(self, user: str, password: str) -> None:
        self._value = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    @classmethod
    def from_secret(cls, secret: str) -> BasicAuth:
        """From a secret written `user:password` (the password may hold colons)."""
        user, _, password = secret.partition(":")
        return cls(user, password)

    def __repr__(self) -> str:
        return "BasicAuth(***)"

    def headers(self, api: ApiClient) -> dict[str, str]:
        return {"Authorization": self._value}

    def invalidate(self) -> None:
        return None


# -- paging -------------------------------------------------------------------------------------------


def token_pages(api: ApiClient, url: str, params: Mapping[str, Any]) -> Iterator[Any]:
    """The pages of a Google-style list: each answer's `nextPageToken` is sent back as `pageToken` until an
    answer has none."""
    token: Any = None
    while True:
        page = api.get_json(url, params={**params, **({"pageToken": token} if token else {})})
        yield page
        token = page.get("nextPageToken") if isinstance(page, dict) else None
        if not token:
            return


def counted_pages(fetch: Callable[[int, int], Any], *, items: tuple[str, ...], total: tuple[str, ...],
                  first: int = 0, total_required: bool = False) -> Iterator[tuple[int, int, Any]]:
    """The pages of a list asked for by page number or by offset, as `(number, offset, page)`.

    `fetch(number, offset)` gets one page (numbers count from `first`; the offset is the items of the pages
    before it). `items` and `total` are the paths of the page's item list and of the total it announces. Reading
    stops after a page without items or once the items seen reach the total; with `total_required`, also after
    a page that announces no total.
    """
    number, seen = first, 0
    while True:
        page = fetch(number, seen)
        yield number, seen, page
        found = dig(page, *items)
        seen += len(found) if isinstance(found, list) else 0
        count = dig(page, *total)
        if not found or (seen >= count if isinstance(count, int) else total_required):
            return
        number += 1
