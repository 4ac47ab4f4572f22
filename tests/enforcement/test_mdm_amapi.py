"""`amapi`: policy patch with installType BLOCKED, exception safeguards (golden files, JSON Schema)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from mdm_request import AMAPI, request, validate

from interdit import pipeline
from interdit.enforcement.base import targets
from interdit.errors import ConfigError

ANDROID = ["com.kms.free", "com.ss.android.ugc.trill", "com.tencent.mm", "com.zhiliaoapp.musically"]


def test_policy_patch() -> None:
    payload = targets.get("amapi")().build(request())
    patch = validate(payload.files["policy-patch.json"], AMAPI["policy-patch.json"])
    assert patch["playStoreMode"] == "BLACKLIST"
    assert [a["packageName"] for a in patch["applications"]] == ANDROID
    assert {a["installType"] for a in patch["applications"]} == {"BLOCKED"}
    validate(payload.files["modifyPolicyApplications.json"], AMAPI["modifyPolicyApplications.json"])
    validate(payload.files["personal-profile-patch.json"], AMAPI["personal-profile-patch.json"])
    exc = validate(payload.files["exception-EXC-1.json"], AMAPI["exception"])
    assert [a["packageName"] for a in exc["applications"]] == [
        "com.ss.android.ugc.trill", "com.zhiliaoapp.musically"]  # the excepted family only
    denied = {g["permission"] for g in exc["applications"][0]["permissionGrants"] if g["policy"] == "DENY"}
    assert {"android.permission.CAMERA", "android.permission.RECORD_AUDIO", "android.permission.READ_CONTACTS",
            "android.permission.ACCESS_FINE_LOCATION"} <= denied
    assert "exception-EXC-OLD.json" not in payload.files  # expired
    assert any("com.kaspersky" in c for c in payload.caveats)  # prefixes cannot be expressed


def test_allowlist_mode_warns_first() -> None:
    payload = targets.get("amapi")().build(request(options={"playStoreMode": "WHITELIST"}))
    patch = validate(payload.files["policy-patch.json"], AMAPI["policy-patch.json"])
    assert "playStoreMode" not in patch
    assert payload.caveats[0].startswith("playStoreMode is WHITELIST")


def _amapi_source(tmp_path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    secret = tmp_path / "sa.json"
    secret.write_text(json.dumps({"client_email": "sa@p.iam.gserviceaccount.com", "private_key": key,
                                  "token_uri": "https://oauth.test/token"}))
    os.chmod(secret, 0o600)
    file = tmp_path / "sources.yaml"
    pipeline.add_source("android", "amapi", {"enterprise": "LC1", "api_url": "https://amapi.test/v1",
                                             "token_url": "https://oauth.test/token"}, secret_file=secret, path=file)
    return file


def test_apply_is_a_dry_run_first_and_changes_only_what_is_missing(tmp_path: Path) -> None:
    file = _amapi_source(tmp_path)
    posted: list[Any] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "oauth.test":
            return httpx.Response(200, json={"access_token": "ya29", "expires_in": 3600})
        if request.method == "GET":
            assert request.url.path == "/v1/enterprises/LC1/policies/standard"
            apps = [{"packageName": "com.tencent.mm", "installType": "BLOCKED"},
                    {"packageName": "com.zhiliaoapp.musically", "installType": "AVAILABLE"},
                    {"packageName": "com.microsoft.teams", "installType": "FORCE_INSTALLED"}]
            return httpx.Response(200, json={"name": "enterprises/LC1/policies/standard", "playStoreMode": "BLACKLIST",
                                             "applications": apps})
        assert request.url.path == "/v1/enterprises/LC1/policies/standard:modifyPolicyApplications"
        posted.append(json.loads(request.content))
        return httpx.Response(200, json={})

    payload = targets.get("amapi")().build(request())
    client = httpx.Client(transport=httpx.MockTransport(handle))
    lines = pipeline.apply_enforcement("android", payload, policy="standard", path=file, client=client)
    assert lines == ["com.kms.free: - -> BLOCKED", "com.ss.android.ugc.trill: - -> BLOCKED",
                     "com.zhiliaoapp.musically: AVAILABLE -> BLOCKED"]
    assert posted == []  # a dry run pushes nothing
    pipeline.apply_enforcement("android", payload, policy="standard", path=file, client=client, apply=True)
    assert [c["application"]["packageName"] for c in posted[0]["changes"]] == [
        "com.kms.free", "com.ss.android.ugc.trill", "com.zhiliaoapp.musically"]
    with pytest.raises(ConfigError, match="targets only"):
        pipeline.apply_enforcement("android", targets.get("apple")().build(request()), policy="standard", path=file,
                                   client=client)
