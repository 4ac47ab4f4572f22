"""What the live connectors share: the base class, the two paging loops, and the per-device loop of a page."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interdit.errors import ConfigError
from interdit.inventory import (
    ApiClient,
    BasicAuth,
    ConnectorConfig,
    LiveConnector,
    Record,
    Setting,
    Snapshot,
    Tally,
    TokenProvider,
    app_record,
    counted_pages,
    token_pages,
)
from interdit.inventory._common import Refusal, device_items
from interdit.model import Device, InstalledApp, Management, Ownership, Platform, Rejection

NOW = datetime(2025, 3, 5, tzinfo=UTC)


def _fetcher(pages: list[Any]) -> tuple[list[tuple[int, int]], Any]:
    asked: list[tuple[int, int]] = []

    def fetch(number: int, offset: int) -> Any:
        asked.append((number, offset))
        return pages[len(asked) - 1]

    return asked, fetch


def test_counted_pages_stop_at_the_total_or_an_empty_page() -> None:
    asked, fetch = _fetcher([{"r": [1, 2], "n": 5}, {"r": [3, 4], "n": 5}, {"r": [5], "n": 5}])
    got = [(number, offset) for number, offset, _ in counted_pages(fetch, items=("r",), total=("n",), first=1)]
    assert got == asked == [(1, 0), (2, 2), (3, 4)]

    asked, fetch = _fetcher([{"r": [1, 2]}, {"r": [3]}, {"r": []}])  # no total: read on until a page is empty
    assert len(list(counted_pages(fetch, items=("r",), total=("n",)))) == 3
    assert asked == [(0, 0), (1, 2), (2, 3)]

    asked, fetch = _fetcher([{"r": [1, 2]}, {"r": [3]}])
    assert len(list(counted_pages(fetch, items=("r",), total=("n",), total_required=True))) == 1

    asked, fetch = _fetcher([{"d": {"r": [1], "n": 9}}, {"d": {"r": "not a list", "n": 9}}, {"d": None}])
    assert len(list(counted_pages(fetch, items=("d", "r"), total=("d", "n")))) == 3  # no list counts as no items


def test_token_pages_send_each_token_back_until_there_is_none() -> None:
    seen: list[dict[str, str]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        token = {"": "t1", "t1": "t2"}.get(params.get("pageToken", ""))
        return httpx.Response(200, json={"items": [len(seen)], **({"nextPageToken": token} if token else {})})

    api = ApiClient(httpx.Client(transport=httpx.MockTransport(handle)), source="s")
    pages = list(token_pages(api, "https://api.test/list", {"pageSize": 2}))
    assert [p["items"] for p in pages] == [[1], [2], [3]]
    assert seen == [{"pageSize": "2"}, {"pageSize": "2", "pageToken": "t1"}, {"pageSize": "2", "pageToken": "t2"}]


def _device(item: Mapping[str, Any]) -> tuple[Device, list[Any]]:
    if item.get("gone"):
        raise Refusal("left the fleet", "nothing to fix")
    if not item.get("id"):
        raise ValueError("device without an id")
    device = Device(source="s", device_id=str(item["id"]), platform=Platform.ANDROID, ownership=Ownership.CORPORATE,
                    management=Management.FULLY_MANAGED, observed_at=NOW)
    return device, list(item.get("apps") or [])


def test_device_items_reject_with_the_vendors_fix_then_give_each_devices_apps() -> None:
    tally = Tally()
    snap = Snapshot("s", tally)

    def apps(where: str, device: Device, names: list[Any]) -> Iterator[Record]:
        for k, name in enumerate(names):
            yield snap.app(f"{where}.apps[{k}]", app_record("s", device.device_id, device.platform, name, NOW))

    items = [{"id": "a", "apps": ["com.a", "com.b"]}, "junk", {"id": ""}, {"gone": True}, {"id": "a"}]
    records = list(device_items(snap, "p#devices", items, _device, apps, fix="check the console"))
    rejections = [r for r in records if isinstance(r, Rejection)]
    assert [(r.place, r.fix) for r in rejections] == [
        ("p#devices[1]", "record the page as is"), ("p#devices[2]", "check the console"),
        ("p#devices[3]", "nothing to fix"), ("p#devices[4]", rejections[3].fix)]
    assert "twice" in rejections[3].reason
    assert [r.app.identifier for r in records if isinstance(r, InstalledApp)] == ["com.a", "com.b"]
    assert tally.read == tally.accepted + tally.rejected == len(records) == 7


class _Echo(LiveConnector):
    name = "echo"
    settings = (Setting("base_url", "the server", required=True, kind="url"),
                Setting("space", "a device space", default="1", kind="number"),
                Setting("mode", "how to read", default="fast", allowed=("fast", "slow")),
                Setting("verbose", "say more", default="no", kind="flag"))

    def configure(self, config: ConnectorConfig) -> TokenProvider:
        self.base = config.need("base_url").rstrip("/")
        self.space, self.mode, self.verbose = config.need("space"), config.need("mode"), config.flag("verbose")
        return BasicAuth.from_secret(config.need_secret())

    def check(self) -> str:
        return str(self.api.get_json(f"{self.base}/whoami")["user"])

    def records(self) -> Iterator[Record]:
        return iter(())


def test_a_connector_reads_its_settings_and_authenticates_every_request() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        user = base64.b64decode(request.headers["authorization"].split()[1]).decode()
        return httpx.Response(200, json={"user": user})

    config = ConnectorConfig("echo", "echo", {"base_url": "https://echo.test/"}, secret="me:pass:word")
    connector = _Echo(config, httpx.Client(transport=httpx.MockTransport(handle)), now=NOW)
    assert (connector.source, connector.now, connector.incremental, connector.tally.read) == ("echo", NOW, False, 0)
    assert (connector.space, connector.mode, connector.verbose) == ("1", "fast", False)  # the declared defaults
    assert connector.check() == "me:pass:word"  # the password keeps its colons
    assert connector.api.source == "echo" and connector.api.limits is config.limits


@pytest.mark.parametrize(("settings", "said", "fix"), [
    ({"base_url": "https://e.test", "spaec": "2"}, "a setting 'spaec' it does not read", "did you mean 'space'?"),
    ({"base_url": "https://e.test", "space": "two"}, "space 'two' is not a number", "--setting space=1"),
    ({"base_url": "https://e.test", "mode": "quick"}, "mode 'quick' is not one of fast, slow", "--setting mode=fast"),
    ({"base_url": "https://e.test", "verbose": "maybe"}, "verbose 'maybe' is not yes or no", "--setting verbose="),
    ({"base_url": "e.test"}, "base_url 'e.test' is not an http(s) URL", "(the server)"),
    ({}, "has no 'base_url'", "interdit sources add src --type echo --setting base_url=..."),
])
def test_a_connector_refuses_an_unknown_or_ill_typed_setting(settings: dict[str, str], said: str, fix: str) -> None:
    with pytest.raises(ConfigError) as e:
        _Echo(ConnectorConfig("src", "echo", settings, secret="me:pw"), httpx.Client(), now=NOW)
    assert said in e.value.message and fix in (e.value.fix or "") and e.value.where == "source src"


def test_the_registered_name_is_written_once_and_a_second_one_is_refused() -> None:
    from interdit.inventory.live import pushers
    from interdit.registry import Registry

    registry: Registry[type[LiveConnector]] = Registry("connector")
    assert registry.register()(_Echo) is _Echo and registry.names() == ["echo"]

    class _Other(_Echo):  # another class under the same name
        pass

    with pytest.raises(ConfigError, match="two connector components are both named 'echo'"):
        registry.register()(_Other)

    class _Nameless(LiveConnector):
        pass

    with pytest.raises(ConfigError, match="has no name"):
        registry.register()(_Nameless)
    # the built-in pushes come from the connectors' declarations
    assert {target: cls.name for target, cls in pushers().items()} == {"amapi": "amapi", "intune": "intune",
                                                                       "jamf": "jamf"}


@given(st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_any_setting_value_is_taken_or_refused_with_a_reason(value: str) -> None:
    for declared in (Setting("u", "a URL", kind="url"), Setting("n", "a number", kind="number"),
                     Setting("f", "a flag", kind="flag"), Setting("c", "a choice", allowed=("a", "b")),
                     Setting("t", "text")):
        problem = declared.problem(value)
        assert problem is None or (problem.startswith(f"{declared.name} ") and repr(value) in problem)
    assert (Setting("c", "", allowed=("a", "b")).problem(value) is None) == (value in ("a", "b"))
