"""docs/guides/add-a-connector.md, walked through: the guide's own code is installed as a plugin package in a
temporary folder (an `interdit.plugins` entry point, as `pip install` would declare it), and the toy connector
is seen by `interdit formats`, `sources add`, `sources test`, `sources sync` and `enforce --push`, in a fresh
process each time, against a local Toybox server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "inventory"))  # the project's faulty MDM server
from interdit import fleet
from interdit.testing import MdmServer, Reply, Request

ROOT = Path(__file__).parents[2]
GUIDE = ROOT / "docs" / "guides" / "add-a-connector.md"
DEVICES = [
    {"id": "t-1", "platform": "android", "owner": "corporate", "lastSeen": "2025-03-01T10:00:00Z",
     "apps": [{"package": "com.example.mail", "name": "Mail"}, {"package": "com.zhiliaoapp.musically"}]},
    {"id": "t-2", "platform": "android", "owner": "personal", "lastSeen": "2025-03-01T11:00:00Z", "apps": []},
    {"id": "", "platform": "android", "lastSeen": "2025-03-01T11:00:00Z"},  # rejected: no id
]


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text("utf-8"), re.S)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """The guide's package and its entry points, where the interpreter finds installed distributions."""
    site = tmp_path / "site"
    package = site / "toy_mdm"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    written = []
    for code in _blocks("python"):
        first = code.splitlines()[0]
        if first.startswith("# toy_mdm/"):
            (site / first[2:]).write_text(code)
            written.append(first[2:])
    assert written == ["toy_mdm/connector.py", "toy_mdm/target.py"]
    [toml] = _blocks("toml")
    plugins = tomllib.loads(toml)["project"]["entry-points"]["interdit.plugins"]
    info = site / "toy_mdm-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-mdm\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[interdit.plugins]\n" + "".join(f"{k} = {v}\n"
                                                                           for k, v in plugins.items()))
    return site


def _interdit(site: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT / "src")]),
           "INTERDIT_SECRET_TOYBOX_SHOP": "admin:pa55", "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-c", "from interdit.cli.main import app; app()", *args], env=env,
                          cwd=site.parent, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def _toybox(server: MdmServer, blocklist: list[str], added: list[Any]) -> None:
    def devices(request: Request) -> Reply:
        assert request.headers["authorization"] == "Basic YWRtaW46cGE1NQ=="  # admin:pa55
        offset, limit = int(request.query["offset"][0]), int(request.query["limit"][0])
        return Reply(200, {"total": len(DEVICES), "devices": DEVICES[offset:offset + limit]})

    def add(request: Request) -> Reply:
        added.append(request.json())
        blocklist.extend(request.json()["add"])
        return Reply(200, {})

    server.route("GET", "/api/devices", devices)
    server.route("GET", "/api/blocklist", lambda r: Reply(200, {"packages": list(blocklist)}))
    server.route("POST", "/api/blocklist", add)


def test_the_guides_connector_is_one_plugin_module_seen_everywhere(site: Path) -> None:
    root = site.parent
    policy = root / "policy.yaml"
    policy.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    where = ("--db", str(root / "interdit.db"), "--policy", str(policy))
    sources = ("--sources", str(root / "sources.yaml"))

    code, out = _interdit(site, "formats", "--format", "json")
    assert code == 0, out
    listed = json.loads(out)
    assert "toybox" in listed["live_mdm_connectors"] and "toy" in listed["enforcement_targets"]
    assert [s["name"] for s in listed["connector_settings"]["toybox"]] == ["base_url", "fleet", "page_size"]
    assert listed["connector_settings"]["toybox"][1]["allowed"] == ["all", "corporate"]
    assert listed["connector_pushes"]["toybox"] == "toy"

    blocklist, added = ["com.zhiliaoapp.musically"], []
    with MdmServer() as server:
        _toybox(server, blocklist, added)
        code, out = _interdit(site, "sources", "add", "toybox-shop", "--type", "toybox", "--base-url", "ftp://x",
                              *sources)
        assert code == 2 and "base_url 'ftp://x' is not an http(s) URL" in out, out
        code, out = _interdit(site, "sources", "add", "toybox-shop", "--type", "toybox", "--base-url", server.url,
                              "--setting", "fleet=corporate", "--setting", "page_size=2", *sources)
        assert code == 0, out
        code, out = _interdit(site, "sources", "test", "toybox-shop", *sources)
        assert code == 0 and "credentials accepted; 3 devices" in out, out
        code, out = _interdit(site, *where, "sources", "sync", "toybox-shop", "--format", "json",
                              "--max-rejected", "1", *sources)
        assert code == 3, out  # one device rejected (no id), the rest imported
        synced = json.loads(out)
        assert (synced["result"]["devices"], synced["result"]["apps"], synced["rejected"]) == (2, 2, 1)
        assert {r.query["fleet"][0] for r in server.requests if r.path == "/api/devices"} == {"corporate"}

        code, out = _interdit(site, *where, "enforce", "toy", "--out", str(root / "toy"), "--push", "toybox-shop",
                              "--format", "json", *sources)
        assert code == 0, out
        dry = json.loads(out)["push"]
        wanted = json.loads((root / "toy" / "blocklist.json").read_text())
        assert "com.zhiliaoapp.musically" in wanted and len(wanted) > 1
        assert dry["applied"] is False and len(dry["changes"]) == len(wanted) - 1 and added == []
        code, out = _interdit(site, *where, "enforce", "toy", "--out", str(root / "toy"), "--push", "toybox-shop",
                              "--apply", *sources)
        assert code == 0, out
        assert sorted(blocklist) == sorted(wanted) and len(added) == 1  # only what was missing, once
        code, out = _interdit(site, *where, "enforce", "toy", "--out", str(root / "toy"), "--push", "toybox-shop",
                              *sources)
        assert code == 0 and "toybox-shop: 0 changes (dry run: nothing to send)" in out, out

    code, out = _interdit(site, *where, "enforce", "unbound", "--out", str(root / "u"), "--push", "toybox-shop",
                          *sources)
    assert code == 2 and "--push is available for the amapi, intune, jamf, toy targets only" in out, out
    assert not (root / "u").exists()  # refused before anything is built or written
