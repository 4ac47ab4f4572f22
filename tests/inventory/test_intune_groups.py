"""Intune: Entra ID group memberships of devices and their primary users (transitive, through `$batch`), device
categories as organisational labels, and a group-scoped exception reaching an Intune device end to end from a
live sync against recorded Graph answers (recorded/intune/transitiveMemberOf.json, served by mdm_server)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from entra_recorded import serve

from interdit import pipeline, sources
from interdit.errors import ConfigError
from interdit.inventory import ConnectorConfig, Limits
from interdit.inventory.intune import IntuneConnector, device_from_graph
from interdit.model import Device, FindingState
from interdit.testing import MdmServer, Reply

REC = Path(__file__).parent / "recorded" / "intune"
NOW = datetime(2025, 3, 5, tzinfo=UTC)
D1, D2, D3, D4 = (f"5f3a9c10-1111-4111-8111-00000000000{i}" for i in range(1, 5))
SECRET = "s3cr3t-client-value"
DETECTED = {D1: "detectedApps-device1.json", D3: "detectedApps-device3.json"}


def _serve_graph(server: MdmServer, *, fail: set[str] | None = None) -> None:
    server.route("POST", "/contoso.example/oauth2/v2.0/token",
                 lambda r: Reply(200, {"access_token": "tok-1", "expires_in": 3599}))

    def devices(request: Any) -> Reply:
        second = "$skiptoken" in "".join(request.query)
        body = json.loads((REC / f"managedDevices-{2 if second else 1}.json").read_text())
        if "@odata.nextLink" in body:
            body["@odata.nextLink"] = f"{server.url}/v1.0/deviceManagement/managedDevices?$skiptoken=PAGE2"
        return Reply(200, body)

    server.route("GET", "/v1.0/deviceManagement/managedDevices", devices)
    for device in (D1, D2, D3, D4):
        name = DETECTED.get(device)
        body = json.loads((REC / name).read_text()) if name else {"value": []}
        server.route("GET", f"/beta/deviceManagement/managedDevices/{device}/detectedApps", [Reply(200, body)])
    serve(server, fail=fail)


def _connector(base: str, **extra: str) -> IntuneConnector:
    settings = {"tenant": "contoso.example", "client_id": "app-id", "graph_url": base, "login_url": base,
                "apps": "per-device", **extra}
    config = ConnectorConfig("intune-prod", "intune", settings, SECRET,
                             Limits(attempts=4, backoff=0.01, total_seconds=30, timeout=5))
    return IntuneConnector(config, httpx.Client(), now=NOW, sleep=lambda s: None)


def _devices(records: list[Any]) -> dict[str, Device]:
    return {r.device_id: r for r in records if isinstance(r, Device)}


def test_devices_get_their_own_and_their_user_s_groups_transitively_by_name() -> None:
    with MdmServer() as server:
        _serve_graph(server)
        connector = _connector(server.url)
        devices = _devices(list(connector.records()))
        batches = [r for r in server.requests if r.path == "/v1.0/$batch"]
    # the device's group, the user's groups over two pages (nested ones included), a group whose name the app
    # may not read kept by its id; the administrative unit is not a group
    assert devices[D1].groups == ("6c1b0004-aaaa-4bbb-8ccc-000000000004", "TBS iPhones", "Tous les employés",
                                  "Équipe médias sociaux")
    assert devices[D2].groups == ("Tous les employés",)  # the device is not in Entra ID; its user is
    assert devices[D3].groups == ("GAC Android", "Tous les employés")
    assert devices[D4].groups == ()
    assert len(batches) == 1 and len(batches[0].json()["requests"]) == 8
    assert connector.tally.read == connector.tally.accepted + connector.tally.rejected


def test_a_throttled_answer_inside_a_batch_is_asked_again_on_its_own() -> None:
    with MdmServer() as server:
        _serve_graph(server, fail={"/users/jane.doe@dept.example"})
        devices = _devices(list(_connector(server.url).records()))
        direct = [r for r in server.requests if r.path.startswith("/v1.0/users/jane.doe")]
    assert "Équipe médias sociaux" in devices[D1].groups
    assert len(direct) == 2  # the first page asked again, then its next page


def test_refused_memberships_name_the_permissions_and_how_to_turn_groups_off() -> None:
    with MdmServer() as server:
        _serve_graph(server)
        server.route("POST", "/v1.0/$batch", lambda r: Reply(200, {"responses": [
            {"id": x["id"], "status": 403, "body": {"error": {"code": "Authorization_RequestDenied"}}}
            for x in r.json()["requests"]]}))
        with pytest.raises(ConfigError) as err:
            list(_connector(server.url).records())
    assert "GroupMember.Read.All" in str(err.value) and "groups: off" in str(err.value)


def test_groups_off_sends_no_membership_request_and_a_bad_value_is_refused() -> None:
    with MdmServer() as server:
        _serve_graph(server)
        devices = _devices(list(_connector(server.url, groups="off").records()))
        assert server.hits("/v1.0/$batch") == 0
    assert all(d.groups == () for d in devices.values())
    with pytest.raises(ConfigError, match="is not one of entra, off"):
        _connector("https://graph.test", groups="yes")


@pytest.mark.parametrize(("category", "unit", "labels"), [
    ("Direction des ressources humaines", "Direction des ressources humaines",
     (("category", "Direction des ressources humaines"),)),  # kept as reported; the policy's mapping places it
    ("Unknown", None, ()),  # Intune's default: nobody categorised the device
    ("", None, ()),
    (None, None, ()),
    ("/TBS/Communications", "/TBS/Communications", ()),  # a category written as a path is the org unit
])
def test_a_device_category_is_a_label_and_unknown_is_nothing(category: str | None, unit: str | None,
                                                      labels: tuple[tuple[str, str], ...]) -> None:
    item = json.loads((REC / "managedDevices-1.json").read_text())["value"][0]
    item["deviceCategoryDisplayName"] = category
    device = device_from_graph("intune", item, NOW)
    assert (device.org_unit, device.org_labels) == (unit, labels)


POLICY = """\
organisation: MCN
adopt:
  - directive: ca-tbs-2023-tiktok
    scope: {ownership: [corporate, unknown], org_units: [/TBS, /GAC]}
exceptions:
  - id: EXC-SOCIAL
    families: [tiktok]
    groups: ["Équipe médias sociaux"]
    approver: Sous-ministre
    reason: Compte officiel
    expires: 2026-01-01
"""


def test_a_group_scoped_exception_covers_an_intune_device_through_its_entra_group(db_url: str,
                                                                                  tmp_path: Path) -> None:
    """End to end: a live sync against recorded Graph answers, stored, evaluated."""
    file = tmp_path / "sources.yaml"
    secret = tmp_path / "intune.secret"
    secret.write_text(SECRET + "\n")
    os.chmod(secret, 0o600)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, "utf-8")
    repo = pipeline.open_repository(db_url)
    with MdmServer() as server:
        _serve_graph(server)
        sources.add_source(file, sources.SourceSpec(
            "intune-prod", "intune", {"tenant": "contoso.example", "client_id": "app-id", "graph_url": server.url,
                                      "login_url": server.url, "apps": "per-device"},
            secret, limits={"attempts": 3, "backoff": 0.01}))
        with httpx.Client() as client:
            pipeline.sync_source(repo, "intune-prod", path=file, client=client, at=NOW, clock=lambda: NOW,
                                 max_rejected=1)  # the recorded Linux device is refused
    loaded = pipeline.read_policy(policy)
    result = pipeline.evaluate(repo, loaded, as_of=NOW, store=False)
    # the TikTok the device reports (by display name) is excepted; the device's not-evaluable finding (its Graph
    # app list gives display names only) is a different finding
    tiktok = [f for f in result.findings if f.family == "tiktok" and f.device_id == D1 and f.app is not None]
    assert [(f.state, f.exception) for f in tiktok] == [(FindingState.EXCEPTED, "EXC-SOCIAL")]
    # without the exception's group the same device is in violation: the group is what covers it
    loaded_without = pipeline.read_policy(_write(tmp_path / "p2.yaml", POLICY.replace("Équipe médias sociaux",
                                                                                      "Autre équipe")))
    again = pipeline.evaluate(repo, loaded_without, as_of=NOW, store=False)
    assert [f.state for f in again.findings if f.family == "tiktok" and f.device_id == D1
                                               and f.app is not None] == [
        FindingState.VIOLATION]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path
