"""The helpers shipped for plugin tests behave as their documentation says: MockApi routes, scripts, records and
drops like MdmServer; a golden file is never created silently and a difference fails."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from interdit.testing import MockApi, Reply, check_golden


def test_mock_api_routes_scripts_records_and_drops() -> None:
    api = MockApi()
    api.route("GET", "/v1/devices", [Reply(429, headers={"Retry-After": "0"}), Reply(body={"devices": [1]})])
    api.route("POST", "/v1/echo", lambda request: Reply(201, {"got": request.json(), "q": request.query}))
    api.route("GET", "/v1/gone", Reply(drop=True))
    with api.client("https://mdm.example") as client:
        assert client.get("/v1/devices").status_code == 429
        assert client.get("/v1/devices").json() == {"devices": [1]}
        assert client.get("/v1/devices").json() == {"devices": [1]}  # the last reply repeats
        echo = client.post("/v1/echo?x=1", json={"a": "b"}, headers={"Authorization": "Bearer t"})
        assert echo.status_code == 201 and echo.json() == {"got": {"a": "b"}, "q": {"x": ["1"]}}
        assert client.get("/nowhere").status_code == 404
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/v1/gone")
    assert api.hits("/v1/devices") == 3
    assert api.requests[3].headers["authorization"] == "Bearer t" and api.requests[3].method == "POST"


def test_golden_files_are_never_created_silently(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.txt"
    monkeypatch.delenv("INTERDIT_UPDATE_GOLDEN", raising=False)
    with pytest.raises(AssertionError, match="no golden file"):
        check_golden(path, "café\n")
    assert not path.exists()
    monkeypatch.setenv("INTERDIT_UPDATE_GOLDEN", "1")
    check_golden(path, "café\n")
    assert path.read_bytes() == "café\n".encode()
    monkeypatch.delenv("INTERDIT_UPDATE_GOLDEN")
    check_golden(path, b"caf\xc3\xa9\n")
    with pytest.raises(AssertionError, match="differs from its golden file"):
        check_golden(path, "cafe\n")
