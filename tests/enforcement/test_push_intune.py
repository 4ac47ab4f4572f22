"""`interdit enforce intune --push`: Graph objects found by displayName, created when missing, PATCHed with their
app lists only; a dry run first, every apply audited once. Graph is answered in-process (httpx.MockTransport)
with the shapes of the recorded examples in the vendors' documentation."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mdm_request import request

from interdit import pipeline
from interdit.enforcement.base import targets
from interdit.enforcement.intune import plan
from interdit.errors import ConfigError, InputError
from interdit.storage.audit import AuditLog

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "mdm-api-examples" / "intune"
NAME = "Prohibited apps"
IOS = ["com.ss.iphone.ugc.Ame", "com.tencent.xin", "com.zhiliaoapp.musically"]


def _recorded(name: str) -> dict[str, Any]:
    path = EXAMPLES / name
    if not path.is_file():
        pytest.skip(f"the recorded Graph example {name} is absent")
    body = json.loads(path.read_text("utf-8"))
    body.pop("_comment", None)
    return dict(body)


class Graph:
    """Enough of /beta/deviceManagement: list (two pages), get, create, update; every write kept."""

    def __init__(self, objects: dict[str, list[dict[str, Any]]]) -> None:
        self.objects = objects
        self.writes: list[tuple[str, str, Any]] = []
        self.fail: int | None = None
        self.next_id = 100

    def __call__(self, req: httpx.Request) -> httpx.Response:
        if req.url.host == "login.test":
            return httpx.Response(200, json={"access_token": "eyJ0", "expires_in": 3600})
        assert req.url.host == "graph.test" and req.headers["authorization"] == "Bearer eyJ0"
        parts = req.url.path.split("/")  # ['', 'beta', 'deviceManagement', collection, id?]
        assert parts[1:3] == ["beta", "deviceManagement"], req.url
        items = self.objects.setdefault(parts[3], [])
        if req.method == "GET" and len(parts) == 4:
            skip = int(req.url.params.get("$skip", "0"))
            page: dict[str, Any] = {"value": [{"@odata.type": o["@odata.type"], "id": o["id"],
                                               "displayName": o["displayName"]} for o in items[skip:skip + 1]]}
            if skip + 1 < len(items):
                page["@odata.nextLink"] = f"https://graph.test/beta/deviceManagement/{parts[3]}?$skip={skip + 1}"
            return httpx.Response(200, json=page)
        if req.method == "GET":
            return httpx.Response(200, json=next(o for o in items if o["id"] == parts[4]))
        body = json.loads(req.content)
        self.writes.append((req.method, req.url.path, body))
        if self.fail:
            return httpx.Response(self.fail, json={"error": {"code": "BadRequest", "message": "Invalid property"}})
        if req.method == "POST":
            self.next_id += 1
            made = {**body, "id": f"obj-{self.next_id}"}
            items.append(made)
            return httpx.Response(201, json=made)
        assert req.method == "PATCH"
        found = next(o for o in items if o["id"] == parts[4])
        assert body["@odata.type"] == found["@odata.type"]
        found.update(body)
        return httpx.Response(204)


def _tenant() -> dict[str, list[dict[str, Any]]]:
    config = _recorded("graph_iosGeneralDeviceConfiguration_prohibited_and_hidden_apps.json")
    config.update(id="cfg-1", displayName=NAME, passcodeRequired=True)
    config["compliantAppsList"].append({"@odata.type": "microsoft.graph.appListItem", "name": "Their own",
                                        "publisher": None, "appStoreUrl": None, "appId": "com.example.theirs"})
    compliance = _recorded("graph_iosCompliancePolicy_restrictedApps_create.json")
    compliance.update(id="cmp-1", displayName=NAME)
    other = {"@odata.type": "#microsoft.graph.androidWorkProfileGeneralDeviceConfiguration", "id": "cfg-0",
             "displayName": "Work profile baseline"}
    return {"deviceConfigurations": [other, config], "deviceCompliancePolicies": [compliance]}


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    secret = tmp_path / "graph.secret"
    secret.write_text("client-secret\n")
    os.chmod(secret, 0o600)
    file = tmp_path / "sources.yaml"
    pipeline.add_source("intune", "intune", {"tenant": "example.onmicrosoft.com", "client_id": "app-1",
                                             "graph_url": "https://graph.test", "login_url": "https://login.test"},
                        secret_file=secret, path=file)
    return file


@pytest.fixture()
def trail(tmp_path: Path) -> Iterator[AuditLog]:
    repo = pipeline.open_repository(f"sqlite:///{tmp_path / 'audit.db'}")
    yield AuditLog(repo.engine)
    repo.engine.dispose()


def _push(file: Path, graph: Graph, **kw: Any) -> list[str]:
    payload = targets.get("intune")().build(request())
    client = httpx.Client(transport=httpx.MockTransport(graph))
    return pipeline.apply_enforcement("intune", payload, policy=NAME, path=file, client=client, **kw)


def test_dry_run_sends_nothing_and_says_what_would_change(source: Path) -> None:
    graph = Graph(_tenant())
    lines = _push(source, graph)
    assert graph.writes == []
    text = "\n".join(lines)
    assert "deviceConfigurations 'Prohibited apps' (iosGeneralDeviceConfiguration) compliantAppsList: + " \
           "com.tencent.xin" in text
    assert "com.zhiliaoapp.musically" not in text  # already in every list
    assert "deviceCompliancePolicies 'Prohibited apps (device admin)' (androidCompliancePolicy): create" in text


def test_apply_sends_the_minimal_change_then_nothing(source: Path, trail: AuditLog) -> None:
    graph = Graph(_tenant())
    before = copy.deepcopy(graph.objects)
    _push(source, graph, apply=True, actor="cli:alice", audit=trail)
    writes = {(m, p): b for m, p, b in graph.writes}
    assert len(graph.writes) == 4
    patch = writes[("PATCH", "/beta/deviceManagement/deviceConfigurations/cfg-1")]
    assert sorted(patch) == ["@odata.type", "appsVisibilityList", "compliantAppsList"]  # nothing else is touched
    assert [i["appId"] for i in patch["compliantAppsList"]] == [
        "com.zhiliaoapp.musically", "com.example.theirs", "com.ss.iphone.ugc.Ame", "com.tencent.xin"]
    assert patch["compliantAppsList"][:2] == before["deviceConfigurations"][1]["compliantAppsList"]  # kept as is
    assert [i["appId"] for i in patch["appsVisibilityList"]] == ["com.zhiliaoapp.musically", *IOS[:2]]
    compliance = writes[("PATCH", "/beta/deviceManagement/deviceCompliancePolicies/cmp-1")]
    assert sorted(compliance) == ["@odata.type", "restrictedApps"]
    assert [i["appId"] for i in compliance["restrictedApps"]][3:] == ["com.ss.iphone.ugc.Ame"]
    created = writes[("POST", "/beta/deviceManagement/deviceCompliancePolicies")]
    assert created["displayName"] == "Prohibited apps (device admin)" and created["scheduledActionsForRule"]
    cope = writes[("POST", "/beta/deviceManagement/deviceConfigurations")]
    assert cope["personalProfilePlayStoreMode"] == "blockedApps"
    assert graph.objects["deviceConfigurations"][1]["passcodeRequired"] is True
    graph.writes.clear()
    assert _push(source, graph) == []  # idempotent: the dry run finds nothing missing
    _push(source, graph, apply=True, actor="cli:alice", audit=trail)
    assert graph.writes == []
    entries = trail.entries()
    assert [(e.actor, e.action, e.target) for e in entries] == [("cli:alice", "enforcement.push",
                                                                 "intune:Prohibited apps")] * 2
    assert entries[0].after["changes"] == 4 and entries[1].after["changes"] == 0
    assert entries[0].after["digest"] == pipeline.payload_digest(targets.get("intune")().build(request()))
    assert entries[0].after["plan"] and trail.verify().ok


def test_missing_objects_are_created_unassigned(source: Path) -> None:
    graph = Graph({})
    payload = targets.get("intune")().build(request())
    client = httpx.Client(transport=httpx.MockTransport(graph))
    lines = pipeline.apply_enforcement("intune", payload, path=source, client=client)  # the payload's names
    assert len([line for line in lines if ": create (" in line]) == 4 and graph.writes == []
    log = AuditLog(pipeline.open_repository(f"sqlite:///{source.parent / 'created.db'}").engine)
    pipeline.apply_enforcement("intune", payload, path=source, client=client, apply=True, actor="cli:a", audit=log)
    assert [(m, p.rsplit("/", 1)[1]) for m, p, _ in graph.writes] == [
        ("POST", "deviceConfigurations"), ("POST", "deviceCompliancePolicies"),
        ("POST", "deviceCompliancePolicies"), ("POST", "deviceConfigurations")]
    assert all("assignments" not in body for _, _, body in graph.writes)
    assert graph.objects["deviceConfigurations"][0]["displayName"] == "Prohibited apps — Example Department"
    graph.writes.clear()
    assert pipeline.apply_enforcement("intune", payload, path=source, client=client) == []
    assert [e.target for e in log.entries()] == ["intune:Prohibited apps — Example Department"]


def test_an_allowlist_is_left_alone(source: Path) -> None:
    tenant = _tenant()
    tenant["deviceConfigurations"][1]["compliantAppListType"] = "appsInListCompliant"
    graph = Graph(tenant)
    lines = _push(source, graph)
    assert any("compliantAppsList: left alone" in line for line in lines)
    assert not any("compliantAppsList: +" in line for line in lines)


def test_a_4xx_fails_cleanly_naming_the_source_and_records_nothing(source: Path, trail: AuditLog) -> None:
    graph = Graph(_tenant())
    graph.fail = 400
    with pytest.raises(InputError, match=r"^intune: (PATCH|POST) https://graph.test/beta/deviceManagement/.*HTTP 400"):
        _push(source, graph, apply=True, actor="cli:alice", audit=trail)
    assert len(graph.writes) == 1 and trail.entries() == []


def test_a_source_of_another_type_is_refused(source: Path, tmp_path: Path) -> None:
    secret = tmp_path / "jamf.secret"
    secret.write_text("s\n")
    os.chmod(secret, 0o600)
    pipeline.add_source("jamf", "jamf", {"base_url": "https://jamf.test", "client_id": "c1"}, secret_file=secret,
                        path=source)
    graph = Graph(_tenant())
    payload = targets.get("intune")().build(request())
    client = httpx.Client(transport=httpx.MockTransport(graph))
    with pytest.raises(ConfigError, match="'jamf' is a jamf source, not intune"):
        pipeline.apply_enforcement("jamf", payload, path=source, client=client)
    with pytest.raises(ConfigError, match="targets only"):
        pipeline.apply_enforcement("intune", targets.get("headwind")().build(request()), path=source, client=client)


def test_plan_is_pure_and_keeps_other_entries() -> None:
    payload = targets.get("intune")().build(request())
    lines, changes = plan({}, payload, "X")
    assert {c["displayName"] for c in changes} == {"X", "X (device admin)",
                                                   "X (personal profile of company-owned devices)"}
    assert all(c["id"] is None for c in changes) and len(lines) == 4
