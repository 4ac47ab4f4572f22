"""Android Management API: devices.list pages (recorded), service-account JWT, live paging and faults."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from interdit.errors import ConfigError, InputError
from interdit.inventory import ConnectorConfig, Limits
from interdit.inventory.amapi import AmapiConnector
from interdit.inventory.base import readers
from interdit.model import Device, InstalledApp, Management, Ownership, Rejection
from interdit.testing import MdmServer, Reply, Request

REC = Path(__file__).parent / "recorded" / "amapi"
NOW = datetime(2025, 3, 5, tzinfo=UTC)
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption()).decode()


def _same(a: list[Any], b: list[Any]) -> bool:
    """The same records; rejections compared by reason (their place names a URL or a file)."""
    def key(rs: list[Any]) -> list[Any]:
        return [r.reason if isinstance(r, Rejection) else r for r in rs]
    return key(a) == key(b)


def _read(files: list[Path]) -> list[Any]:
    reader = readers.get("amapi")("android-corp", files, now=NOW)
    records = list(reader.records())
    assert reader.tally.read == reader.tally.accepted + reader.tally.rejected == len(records)
    return records


def test_devices_pages() -> None:
    records = _read(sorted(REC.glob("devices-page*.json")))
    devices = {r.device_id: r for r in records if isinstance(r, Device)}
    assert set(devices) == {"c0ffee5a7e01", "c0ffee5a7e02", "c0ffee5a7e03"}
    d1, d2, d3 = (devices[f"c0ffee5a7e0{i}"] for i in (1, 2, 3))
    assert (d1.ownership, d1.management) == (Ownership.CORPORATE, Management.FULLY_MANAGED)
    assert (d2.ownership, d2.management) == (Ownership.PERSONAL, Management.WORK_PROFILE)
    assert (d3.ownership, d3.management) == (Ownership.CORPORATE, Management.WORK_PROFILE)
    assert (d1.org_unit, d1.user, d3.org_unit) == ("/TBS/Communications", "sam.smith@dept.example", "/GAC/Trade")
    apps = [(r.device_id, r.app.identifier) for r in records if isinstance(r, InstalledApp)]
    assert ("c0ffee5a7e01", "com.tencent.mm") not in apps  # reported REMOVED
    assert ("c0ffee5a7e01", "com.zhiliaoapp.musically") in apps and len(apps) == 4
    reasons = [r.reason for r in records if isinstance(r, Rejection)]
    assert any("DELETED" in r for r in reasons) and "device without a resource name" in reasons


def _key_json(token_uri: str) -> str:
    return json.dumps({"type": "service_account", "client_email": "interdit@proj.iam.gserviceaccount.com",
                       "private_key": PEM, "token_uri": token_uri})


def _verify_assertion(assertion: str, audience: str) -> dict[str, Any]:
    head, claims, sig = assertion.split(".")
    pad = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))  # noqa: E731
    KEY.public_key().verify(pad(sig), f"{head}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
    body: dict[str, Any] = json.loads(pad(claims))
    assert json.loads(pad(head))["alg"] == "RS256" and body["aud"] == audience
    return body


def test_live_signs_a_jwt_and_follows_page_tokens() -> None:
    token_uri = "https://oauth2.test/token"

    def handle(request: httpx.Request) -> httpx.Response:
        if str(request.url) == token_uri:
            form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
            claims = _verify_assertion(form["assertion"], token_uri)
            assert claims["scope"] == "https://www.googleapis.com/auth/androidmanagement"
            return httpx.Response(200, json={"access_token": "ya29.x", "expires_in": 3599})
        if request.url.path == "/v1/enterprises/LC04f9e2b7/policies":
            return httpx.Response(200, json={"policies": []})
        assert request.url.path == "/v1/enterprises/LC04f9e2b7/devices"
        token = request.url.params.get("pageToken")
        return httpx.Response(200, json=json.loads((REC / f"devices-page{2 if token else 1}.json").read_text()))

    config = ConnectorConfig("android-corp", "amapi", {"enterprise": "LC04f9e2b7", "api_url": "https://amapi.test/v1",
                                                       "token_url": token_uri}, _key_json(token_uri))
    connector = AmapiConnector(config, httpx.Client(transport=httpx.MockTransport(handle)), now=NOW)
    assert _same(list(connector.records()), _read(sorted(REC.glob("devices-page*.json"))))


def test_bad_service_account_key_is_a_config_error() -> None:
    config = ConnectorConfig("android-corp", "amapi", {"enterprise": "LC1"}, "not json")
    with pytest.raises(ConfigError, match="service-account key"):
        AmapiConnector(config, httpx.Client(), now=NOW)


def test_live_local_server_drops_then_gives_up_cleanly() -> None:
    with MdmServer() as server:
        token_uri = f"{server.url}/token"
        server.route("POST", "/token", lambda r: Reply(200, {"access_token": "ya29.x", "expires_in": 3599}))

        def devices(request: Request) -> Reply:
            if "pageToken" in request.query:
                return Reply(drop=True)
            return Reply(200, json.loads((REC / "devices-page1.json").read_text()))

        server.route("GET", "/v1/enterprises/LC04f9e2b7/devices", devices)
        config = ConnectorConfig("android-corp", "amapi", {"enterprise": "LC04f9e2b7", "api_url": f"{server.url}/v1",
                                                           "token_url": token_uri}, _key_json(token_uri),
                                 Limits(attempts=3, backoff=0.01, total_seconds=30, timeout=5))
        with httpx.Client() as client:
            connector = AmapiConnector(config, client, now=NOW, sleep=lambda s: None)
            with pytest.raises(InputError, match="gave up after 3 attempts: connection failed"):
                list(connector.records())
        assert server.hits("/v1/enterprises/LC04f9e2b7/devices") == 1 + 3
