"""`interdit enforce jamf --push`: a mobile device configuration profile found by name (Classic API XML), created
when missing (scope empty), otherwise updated with its payloads only; a dry run first, every apply audited once."""

from __future__ import annotations

import os
import plistlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx
import pytest
from mdm_request import request

from interdit import pipeline
from interdit.enforcement.base import targets
from interdit.enforcement.jamf import plan
from interdit.errors import ConfigError, InputError
from interdit.storage.audit import AuditLog

NAME = "Prohibited apps"
IOS = ["com.ss.iphone.ugc.Ame", "com.tencent.xin", "com.zhiliaoapp.musically"]


def _payloads(blocked: list[str] | None) -> bytes:
    content: list[dict[str, Any]] = [{"PayloadType": "com.apple.wifi.managed", "PayloadUUID": "W-1",
                                      "PayloadIdentifier": "org.example.wifi", "SSID_STR": "Office"}]
    if blocked is not None:
        content.append({"PayloadType": "com.apple.applicationaccess", "PayloadUUID": "R-1",
                        "PayloadIdentifier": "org.example.restrictions", "allowCamera": True,
                        "blockedAppBundleIDs": blocked})
    return plistlib.dumps({"PayloadContent": content, "PayloadType": "Configuration", "PayloadUUID": "P-1",
                           "PayloadIdentifier": "org.example.profile", "PayloadDisplayName": NAME})


def _profile(pid: str, name: str, payloads: bytes) -> bytes:
    """GET /JSSResource/mobiledeviceconfigurationprofiles/id/{id}, as Jamf Pro answers it."""
    return (f'<?xml version="1.0" encoding="UTF-8"?><configuration_profile><general><id>{pid}</id>'
            f"<name>{escape(name)}</name><description/><site><id>-1</id><name>None</name></site>"
            "<category><id>-1</id><name>No category assigned</name></category><uuid>P-1</uuid>"
            "<deployment_method>Install Automatically</deployment_method>"
            "<redeploy_on_update>Newly Assigned</redeploy_on_update>"
            f"<payloads>{escape(payloads.decode())}</payloads></general><scope><all_mobile_devices>false"
            "</all_mobile_devices><mobile_device_groups><mobile_device_group><id>7</id><name>Supervised</name>"
            "</mobile_device_group></mobile_device_groups></scope></configuration_profile>").encode()


class Jamf:
    def __init__(self, profiles: dict[str, tuple[str, bytes]]) -> None:
        self.profiles = profiles  # id -> (name, payloads plist)
        self.writes: list[tuple[str, str, bytes]] = []
        self.fail: int | None = None

    def __call__(self, req: httpx.Request) -> httpx.Response:
        if req.url.path == "/api/oauth/token":
            return httpx.Response(200, json={"access_token": "jt", "expires_in": 1200})
        assert req.headers["authorization"] == "Bearer jt"
        root = "/JSSResource/mobiledeviceconfigurationprofiles"
        if req.method == "GET" and req.url.path == root:
            rows = "".join(f"<configuration_profile><id>{i}</id><name>{escape(n)}</name></configuration_profile>"
                           for i, (n, _) in self.profiles.items())
            return httpx.Response(200, content=f"<configuration_profiles><size>{len(self.profiles)}</size>{rows}"
                                               "</configuration_profiles>".encode())
        pid = req.url.path.rsplit("/", 1)[1]
        if req.method == "GET":
            name, payloads = self.profiles[pid]
            return httpx.Response(200, content=_profile(pid, name, payloads))
        assert req.headers["content-type"] == "application/xml"
        self.writes.append((req.method, req.url.path, req.content))
        if self.fail:
            return httpx.Response(self.fail, content=b"<html><body>Conflict: Problem with payload</body></html>")
        sent = ET.fromstring(req.content)
        payloads = (sent.findtext("general/payloads") or "").encode()
        if req.method == "POST":
            assert pid == "0"
            pid = str(len(self.profiles) + 10)
            self.profiles[pid] = (sent.findtext("general/name") or "", payloads)
            return httpx.Response(201, content=f"<configuration_profile><id>{pid}</id></configuration_profile>"
                                  .encode())
        name, _ = self.profiles[pid]
        self.profiles[pid] = (name, payloads)
        return httpx.Response(201, content=f"<configuration_profile><id>{pid}</id></configuration_profile>".encode())


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    secret = tmp_path / "jamf.secret"
    secret.write_text("jamf-secret\n")
    os.chmod(secret, 0o600)
    file = tmp_path / "sources.yaml"
    pipeline.add_source("jamf-ipads", "jamf", {"base_url": "https://jamf.test", "client_id": "c1"},
                        secret_file=secret, path=file)
    return file


@pytest.fixture()
def trail(tmp_path: Path) -> Iterator[AuditLog]:
    repo = pipeline.open_repository(f"sqlite:///{tmp_path / 'audit.db'}")
    yield AuditLog(repo.engine)
    repo.engine.dispose()


def _push(file: Path, jamf: Jamf, name: str | None = NAME, **kw: Any) -> list[str]:
    payload = targets.get("jamf")().build(request())
    client = httpx.Client(transport=httpx.MockTransport(jamf))
    return pipeline.apply_enforcement("jamf-ipads", payload, policy=name, path=file, client=client, **kw)


def test_dry_run_sends_nothing(source: Path) -> None:
    jamf = Jamf({"3": ("Wi-Fi", _payloads(None)), "5": (NAME, _payloads(["com.zhiliaoapp.musically"]))})
    lines = _push(source, jamf)
    assert lines == [f"mobiledeviceconfigurationprofiles {NAME!r} blockedAppBundleIDs: + {i}" for i in IOS[:2]]
    assert jamf.writes == []


def test_apply_puts_only_the_payloads_with_the_missing_ids_then_nothing(source: Path, trail: AuditLog) -> None:
    jamf = Jamf({"3": ("Wi-Fi", _payloads(None)), "5": (NAME, _payloads(["com.zhiliaoapp.musically", "x.y"]))})
    _push(source, jamf, apply=True, actor="cli:bob", audit=trail)
    [(method, path, body)] = jamf.writes
    assert (method, path) == ("PUT", "/JSSResource/mobiledeviceconfigurationprofiles/id/5")
    sent = ET.fromstring(body)
    assert [e.tag for e in sent.iter()] == ["configuration_profile", "general", "payloads"]  # name, scope untouched
    profile = plistlib.loads((sent.findtext("general/payloads") or "").encode())
    wifi, restrictions = profile["PayloadContent"]
    assert wifi["SSID_STR"] == "Office" and restrictions["allowCamera"] is True and restrictions["PayloadUUID"] == "R-1"
    assert restrictions["blockedAppBundleIDs"] == ["com.zhiliaoapp.musically", "x.y", *IOS[:2]]
    jamf.writes.clear()
    assert _push(source, jamf) == []
    _push(source, jamf, apply=True, actor="cli:bob", audit=trail)
    assert jamf.writes == []  # idempotent
    entries = trail.entries()
    assert [(e.action, e.target, e.after["changes"]) for e in entries] == [
        ("enforcement.push", f"jamf-ipads:{NAME}", 1), ("enforcement.push", f"jamf-ipads:{NAME}", 0)]
    assert entries[0].after["digest"] == pipeline.payload_digest(targets.get("jamf")().build(request()))


def test_a_profile_without_restrictions_gets_ours(source: Path) -> None:
    jamf = Jamf({"5": (NAME, _payloads(None))})
    _push(source, jamf, apply=True)
    profile = plistlib.loads((ET.fromstring(jamf.writes[0][2]).findtext("general/payloads") or "").encode())
    assert [p["PayloadType"] for p in profile["PayloadContent"]] == ["com.apple.wifi.managed",
                                                                     "com.apple.applicationaccess"]
    assert profile["PayloadContent"][1]["blockedAppBundleIDs"] == IOS


def test_a_missing_profile_is_created_with_an_empty_scope(source: Path, trail: AuditLog) -> None:
    jamf = Jamf({"3": ("Wi-Fi", _payloads(None))})
    lines = _push(source, jamf, name=None)
    assert "create with 3 bundle ids in blockedAppBundleIDs" in lines[0]
    assert "Prohibited apps — Example Department" in lines[0]
    _push(source, jamf, name=None, apply=True, actor="cli:bob", audit=trail)
    [(method, path, body)] = jamf.writes
    assert (method, path) == ("POST", "/JSSResource/mobiledeviceconfigurationprofiles/id/0")
    created = ET.fromstring(body)
    assert created.findtext("scope/all_mobile_devices") == "false"
    assert created.find("scope/mobile_device_groups/mobile_device_group") is None  # scoped by a person, later
    assert trail.entries()[0].after["sent"] == [{"created": "Prohibited apps — Example Department", "id": "11"}]
    jamf.writes.clear()
    assert _push(source, jamf, name=None) == []


def test_a_4xx_fails_cleanly_naming_the_source(source: Path, trail: AuditLog) -> None:
    jamf = Jamf({"5": (NAME, _payloads([]))})
    jamf.fail = 409
    with pytest.raises(InputError, match=r"^jamf-ipads: PUT https://jamf.test/JSSResource/.*HTTP 409"):
        _push(source, jamf, apply=True, actor="cli:bob", audit=trail)
    assert trail.entries() == []


def test_two_profiles_with_the_name_and_an_unreadable_one_are_refused(source: Path) -> None:
    with pytest.raises(InputError, match="2 mobile device configuration profiles are named"):
        _push(source, Jamf({"5": (NAME, _payloads([])), "6": (NAME, _payloads([]))}))
    with pytest.raises(InputError, match=r"^source jamf-ipads: .*not a readable property list"):
        _push(source, Jamf({"5": (NAME, b"signed-binary-blob")}))


def test_an_intune_source_is_refused(source: Path) -> None:
    payload = targets.get("amapi")().build(request())
    client = httpx.Client(transport=httpx.MockTransport(Jamf({})))
    with pytest.raises(ConfigError, match="'jamf-ipads' is a jamf source, not amapi"):
        pipeline.apply_enforcement("jamf-ipads", payload, policy="standard", path=source, client=client)


def test_plan_is_pure() -> None:
    payload = targets.get("jamf")().build(request())
    _, change = plan(None, payload, "Banned")
    assert change is not None and change["id"] is None
    assert ET.fromstring(change["xml"]).findtext("general/name") == "Banned"
