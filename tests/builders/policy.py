"""Small catalogues, devices and app histories for the policy tests, built from the model types."""

from __future__ import annotations

from datetime import UTC, date, datetime

from interdit.model import (
    AppFamily,
    AppId,
    AppInterval,
    AppState,
    Catalogue,
    Device,
    DeviceState,
    Directive,
    Management,
    Ownership,
    Platform,
    Vendor,
)

A = Platform.ANDROID
I = Platform.IOS  # noqa: E741
TIKTOK = AppId(A, "com.zhiliaoapp.musically")
TIKTOK_IOS = AppId(I, "com.zhiliaoapp.musically")
CAPCUT = AppId(A, "com.lemon.lvoverseas")
WECHAT = AppId(A, "com.tencent.mm")
OUTLOOK = AppId(A, "com.microsoft.office.outlook")


def when(text: str) -> datetime:
    """'2023-03-15' or '2023-03-15T06:00' as aware UTC."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def catalogue() -> Catalogue:
    vendors = {v.id: v for v in (
        Vendor("bytedance", "ByteDance", "CN"),
        Vendor("pangle", "Pangle", "SG", parent="bytedance"),
        Vendor("tencent", "Tencent", "CN"),
        Vendor("kaspersky", "Kaspersky", "RU"),
        Vendor("deepseek", "DeepSeek", "CN"),
        Vendor("acme", "Acme Analytics", "CA"),
    )}
    families = {f.id: f for f in (
        AppFamily("tiktok", "TikTok", "bytedance",
                  identifiers=(TIKTOK, TIKTOK_IOS, AppId(A, "com.ss.android.ugc.trill"),
                               AppId(A, "com.zhiliaoapp.musically.go")), domains=("tiktok.com",)),
        AppFamily("douyin", "Douyin", "bytedance", identifiers=(AppId(A, "com.ss.android.ugc.aweme"),)),
        AppFamily("capcut", "CapCut", "bytedance", identifiers=(CAPCUT, AppId(I, "com.lemon.lvoverseas"))),
        AppFamily("lemon8", "Lemon8", "bytedance", identifiers=(AppId(A, "com.bd.nproject"),)),
        AppFamily("pangle-demo", "Pangle Demo", "pangle", identifiers=(AppId(A, "com.pangle.demo"),)),
        AppFamily("wechat", "WeChat", "tencent", identifiers=(WECHAT, AppId(I, "com.tencent.xin"))),
        AppFamily("deepseek", "DeepSeek", "deepseek", identifiers=(AppId(A, "com.deepseek.chat"),)),
        AppFamily("kaspersky", "Kaspersky", "kaspersky", prefixes=(AppId(A, "com.kaspersky"), AppId(A, "com.kms"))),
    )}
    directives = {d.id: d for d in (
        Directive("ca-tbs-2023-tiktok", "Treasury Board of Canada Secretariat", "CA",
                  {"en": "TikTok on government-issued mobile devices", "fr": "TikTok sur les appareils"},
                  date(2023, 2, 27), date(2023, 2, 28), ("tiktok",)),
        Directive("ca-tbs-2023-wechat-kaspersky", "Treasury Board of Canada Secretariat", "CA",
                  {"en": "WeChat and Kaspersky"}, None, date(2023, 10, 30), ("wechat",), vendors=("kaspersky",)),
        Directive("us-omb-2023-bytedance", "OMB", "US", {"en": "ByteDance apps"}, None, date(2023, 3, 29), (),
                  vendors=("bytedance",), ownership=(Ownership.CORPORATE, Ownership.UNKNOWN)),
        Directive("xx-interim-deepseek", "Example", "XX", {"en": "DeepSeek, interim"}, None, date(2025, 2, 1),
                  ("deepseek",), interim=True),
    )}
    return Catalogue(1, "test", date(2025, 1, 1), vendors, families, directives)


def device(device_id: str = "D1", *, platform: Platform = A, ownership: Ownership = Ownership.CORPORATE,
           management: Management = Management.FULLY_MANAGED, observed: str = "2023-03-15T06:00",
           org_unit: str | None = "/TBS/Finance", groups: tuple[str, ...] = (), user: str | None = None,
           source: str = "mdm") -> Device:
    return Device(source, device_id, platform, ownership, management, when(observed), user=user,
                  org_unit=org_unit, groups=groups)


def app(dev: Device, app_id: AppId, first: str = "2023-03-01T06:00", last: str = "2023-03-15T06:00",
        removed: str | None = None, *, version: str | None = "34.1.2",
        state: AppState = AppState.INSTALLED) -> AppInterval:
    return AppInterval(dev.source, dev.device_id, app_id, when(first), when(last),
                       when(removed) if removed else None, version=version, state=state)


def state(dev: Device, *apps: AppInterval) -> DeviceState:
    return DeviceState(dev, tuple(apps))
