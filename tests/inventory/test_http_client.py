"""The shared API client: bounded bodies, attempts and time; Retry-After; token cache and refresh; no secrets."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from interdit.errors import ConfigError, InputError
from interdit.inventory._http import ApiClient, ClientCredentials, Limits, safe_url


def _client(handler: Any, **limits: Any) -> tuple[ApiClient, list[float]]:
    sleeps: list[float] = []
    clock = {"t": 0.0}

    def sleep(s: float) -> None:
        sleeps.append(s)
        clock["t"] += s

    api = ApiClient(httpx.Client(transport=httpx.MockTransport(handler)), source="src",
                    limits=Limits(**{"attempts": 4, "backoff": 0.5, "timeout": 5, **limits}), sleep=sleep,
                    monotonic=lambda: clock["t"])
    return api, sleeps


def test_body_size_is_bounded_declared_or_streamed() -> None:
    api, _ = _client(lambda r: httpx.Response(200, content=b"x" * 2000), max_body=1000)
    with pytest.raises(InputError, match="limit"):
        api.get_bytes("https://a.test/big")

    def chunked(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([b"y" * 600, b"y" * 600]))  # no content-length

    api, _ = _client(chunked, max_body=1000)
    with pytest.raises(InputError, match="exceeds"):
        api.get_bytes("https://a.test/stream")


def test_backoff_doubles_and_attempts_are_bounded() -> None:
    api, sleeps = _client(lambda r: httpx.Response(500))
    with pytest.raises(InputError, match="gave up after 4 attempts"):
        api.get_json("https://a.test/x")
    assert sleeps == [0.5, 1.0, 2.0] and api.requests == 4


def test_retry_after_seconds_date_and_too_long() -> None:
    replies = iter([httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200, json={"ok": 1})])
    api, sleeps = _client(lambda r: next(replies))
    assert api.get_json("https://a.test/x") == {"ok": 1} and sleeps == [3.0]
    api, _ = _client(lambda r: httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(InputError, match="3600 s"):
        api.get_json("https://a.test/x")
    date = "Wed, 21 Oct 2015 07:28:00 GMT"  # in the past: no wait
    replies = iter([httpx.Response(429, headers={"Retry-After": date}), httpx.Response(200, json=[])])
    api, sleeps = _client(lambda r: next(replies))
    assert api.get_json("https://a.test/x") == [] and sleeps == [0.0]


def test_total_time_is_bounded() -> None:
    api, _ = _client(lambda r: httpx.Response(503), total_seconds=1.0, attempts=50)
    with pytest.raises(InputError, match="ran out of time"):
        api.get_json("https://a.test/x")


def test_token_is_cached_refreshed_on_401_once_and_never_shown() -> None:
    issued: list[str] = []
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            issued.append(f"tok{len(issued)}")
            return httpx.Response(200, json={"access_token": issued[-1], "expires_in": 3600})
        seen.append(request.headers["authorization"])
        return httpx.Response(401) if len(seen) == 2 else httpx.Response(200, json={})

    now = {"t": 0.0}
    auth = ClientCredentials("https://a.test/token", "id", "TOPSECRET", clock=lambda: now["t"])
    api, _ = _client(handle)
    api.auth = auth
    api.get_json("https://a.test/1")
    api.get_json("https://a.test/2")  # 401: a new token, once
    assert seen == ["Bearer tok0", "Bearer tok0", "Bearer tok1"] and len(issued) == 2
    now["t"] = 4000.0  # expired: fetched again
    api.get_json("https://a.test/3")
    assert len(issued) == 3 and "TOPSECRET" not in repr(auth)


def test_refused_twice_is_a_config_error() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(403, json={"error": "Forbidden"})

    api, _ = _client(handle)
    api.auth = ClientCredentials("https://a.test/token", "id", "TOPSECRET")
    with pytest.raises(ConfigError) as e:
        api.get_json("https://a.test/deviceManagement?$filter=x&sig=abc")
    assert "HTTP 403" in str(e.value) and "sig=abc" not in str(e.value) and "TOPSECRET" not in str(e.value)


def test_safe_url_drops_query_and_user_info() -> None:
    assert safe_url("https://user:pw@blob.test/x.zip?sv=1&sig=SECRET#f") == "https://blob.test/x.zip"


def test_download_streams_to_a_file_with_bounds_and_retries(tmp_path: Any) -> None:
    replies = iter([httpx.Response(503), httpx.Response(200, content=iter([b"a" * 500, b"b" * 500]))])
    api, sleeps = _client(lambda r: next(replies))
    target = tmp_path / "export.zip"
    assert api.download("https://blob.test/x.zip?sig=S", target, max_bytes=2000) == 1000
    assert target.read_bytes() == b"a" * 500 + b"b" * 500 and sleeps == [0.5]
    api, _ = _client(lambda r: httpx.Response(200, content=b"z" * 3000))
    with pytest.raises(InputError, match="exceeds 2,000 bytes") as e:
        api.download("https://blob.test/x.zip?sig=S", target, max_bytes=2000)
    assert "sig=S" not in str(e.value)
    api, _ = _client(lambda r: httpx.Response(403))
    with pytest.raises(InputError, match="HTTP 403"):
        api.download("https://blob.test/x.zip", target, max_bytes=2000)


def test_redirects_are_refused_so_tokens_stay_home() -> None:
    api, _ = _client(lambda r: httpx.Response(302, headers={"Location": "https://elsewhere.test/"}))
    with pytest.raises(InputError, match="redirected"):
        api.get_json("https://a.test/x")
