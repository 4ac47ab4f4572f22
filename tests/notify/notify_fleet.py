"""A small fleet whose every device tells one part of the notice lifecycle, imported through the pipeline.

The rule takes effect on 2026-03-01 with 14 days of grace: the deadline is 2026-03-15.

- phone-alice: TikTok (Android), held by alice@example.org in /Ministry/Finance: the whole lifecycle;
- phone-bob: TikTok (iOS), held by "bob" (no e-mail, in no contacts file) in /Ministry/IT: no holder to tell;
- phone-carol: TikTok, in /Ministry/Communications/Social Media: an approved exception covers it;
- phone-dave: an Android work profile the MDM cannot list apps for: not evaluable;
- phone-erin: nothing prohibited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from interdit import pipeline
from interdit.storage.repo import Repository

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
REMOVED = datetime(2026, 3, 20, 8, 0, tzinfo=UTC)
DEADLINE = "2026-03-15"

POLICY = """\
organisation: Ministry of Examples
language: en
stale_after_days: 3650
rules:
  - id: no-tiktok
    description: TikTok on ministry devices
    families: [tiktok]
    effective: 2026-03-01
    grace_days: 14
    scope:
      ownership: [corporate]
exceptions:
  - id: EXC-1
    families: [tiktok]
    groups: [/Ministry/Communications/Social Media]
    approver: Deputy Minister
    reason: The official account
    expires: 2027-01-01
"""

CONTACTS = """\
default:
  contacts: [security@example.org]
org_units:
  /Ministry/Finance:
    contacts: [finance.manager@example.org]
  /Ministry/IT: it.manager@example.org
"""

DEVICES = """\
device_id,platform,ownership,management,observed_at,user,name,model,os_version,org_unit,coverage_gap
phone-alice,android,corporate,fully_managed,{at},alice@example.org,Alice's Pixel,Pixel 8,15,/Ministry/Finance,
phone-bob,ios,corporate,fully_managed,{at},bob,Bob's iPhone,iPhone 15,18.2,/Ministry/IT,
phone-carol,android,corporate,fully_managed,{at},carol@example.org,Carol's Galaxy,Galaxy S24,14,\
/Ministry/Communications/Social Media,
phone-dave,android,corporate,work_profile,{at},dave@example.org,Dave's phone,Pixel 7,14,/Ministry/Finance,
phone-erin,android,corporate,fully_managed,{at},erin@example.org,Erin's Pixel,Pixel 8,15,/Ministry/Finance,
"""

APPS_HEADER = "device_id,platform,identifier,observed_at,name\n"
TIKTOK = {"android": "com.zhiliaoapp.musically", "ios": "com.zhiliaoapp.musically"}


def write_policy(folder: Path) -> Path:
    path = folder / "policy.yaml"
    path.write_text(POLICY, "utf-8")
    return path


def import_snapshot(repo: Repository, folder: Path, at: datetime, *, alice_has_tiktok: bool = True
                    ) -> None:
    stamp = at.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    devices = folder / f"devices-{at:%Y%m%d}.csv"
    devices.write_text(DEVICES.format(at=stamp), "utf-8")
    apps = [("phone-bob", "ios"), ("phone-carol", "android")] + ([("phone-alice", "android")]
                                                                  if alice_has_tiktok else [])
    lines = [f"{d},{p},{TIKTOK[p]},{stamp},TikTok" for d, p in apps]
    lines.append(f"phone-erin,android,com.android.chrome,{stamp},Chrome")
    lines.append(f"phone-alice,android,com.android.chrome,{stamp},Chrome")
    app_file = folder / f"apps-{at:%Y%m%d}.csv"
    app_file.write_text(APPS_HEADER + "\n".join(lines) + "\n", "utf-8")
    pipeline.import_inventory(repo, "csv", "mdm", [devices, app_file], at=at)


HOOK_SECRET = "a-long-random-secret-shared-with-the-receiver"


def write_settings(folder: Path, *, smtp: Any = None, hooks_url: str | None = None, extra: str = "",
                   channels: str | None = None) -> Path:
    """notify.yaml with the e-mail channel (to the test's SMTP server) and the three webhooks (to its receiver)."""
    (folder / "contacts.yaml").write_text(CONTACTS, "utf-8")
    parts = []
    if smtp is not None:
        parts.append(f"""\
  - type: email
    host: {smtp.host}
    port: {smtp.port}
    username: interdit
    password_env: TEST_SMTP_PASSWORD
    sender: "IT Security <security@example.org>"
    cafile: {smtp.cafile}
""")
    if hooks_url is not None:
        parts.append(f"""\
  - type: teams
    url: {hooks_url}/teams
  - type: slack
    url: {hooks_url}/slack
    kinds: [escalation]
  - type: webhook
    url: {hooks_url}/hook
    secret_env: TEST_HOOK_SECRET
""")
    text = f"""\
reminders: [7, 1]
escalate_after_days: 1
exception_contact: exceptions@example.org
contacts: contacts.yaml
{extra}
channels:
{channels if channels is not None else "".join(parts)}"""
    path = folder / "notify.yaml"
    path.write_text(text, "utf-8")
    return path
