"""One message per holder and step, against a real SMTP server: a holder with several prohibited apps on two
devices hears once, listing them; each finding's notice is still recorded, so a restart never repeats one; the
org unit's contact hears of every overdue finding of the unit in one message. A device that leaves its source
gets a closing notice in its own words, once; a device that merely could not be read gets none."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from notify_fleet import CONTACTS
from notify_receivers import SMTP_PASSWORD, SmtpServer

from interdit import pipeline
from interdit.pipeline.notify import NoticeRun, notify_settings, send_notices

ENV = {"TEST_SMTP_PASSWORD": SMTP_PASSWORD}
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
POLICY = """\
organisation: Ministry of Examples
language: en
stale_after_days: 3650
rules:
  - id: no-tiktok-wechat
    description: TikTok and WeChat on ministry devices
    families: [tiktok, wechat]
    effective: 2026-03-01
    grace_days: 14
    scope:
      ownership: [corporate]
"""
DEVICE = "{id},android,corporate,fully_managed,{at},{user},{name},Pixel 8,15,/Ministry/Finance,\n"
APPS = {"tiktok": ("com.zhiliaoapp.musically", "TikTok"), "wechat": ("com.tencent.mm", "WeChat")}


def _subject(mail: object) -> str:
    """The subject as a mail program shows it (a long one is folded on the wire)."""
    return " ".join(str(mail["Subject"]).split())  # type: ignore[index]


def _day(d: int, h: int = 9) -> datetime:
    return datetime(2026, 3, d, h, 0, tzinfo=UTC)


def _import(db: str, folder: Path, at: datetime, fleet: dict[str, tuple[str, list[str]]], *,
            broken: str | None = None) -> None:
    """`fleet`: device id -> (holder, apps). `broken`: a device whose record is unreadable in this snapshot."""
    folder.mkdir(parents=True, exist_ok=True)
    devices = folder / f"devices-{at:%Y%m%d%H}.csv"
    head = "device_id,platform,ownership,management,observed_at,user,name,model,os_version,org_unit,coverage_gap\n"
    rows = [DEVICE.format(id=d, at=at.isoformat(), user=user, name=f"{d} of {user.split('@')[0]}")
            for d, (user, _) in sorted(fleet.items())]
    if broken is not None:
        rows.append(f"{broken},not-a-platform,corporate,fully_managed,{at.isoformat()},x,x,x,x,x,\n")
    devices.write_text(head + "".join(rows), "utf-8")
    apps = folder / f"apps-{at:%Y%m%d%H}.csv"
    lines = [f"{d},android,{APPS[a][0]},{at.isoformat()},{APPS[a][1]}\n" for d, (_, names) in sorted(fleet.items())
             for a in names]
    apps.write_text("device_id,platform,identifier,observed_at,name\n" + "".join(lines), "utf-8")
    repo = pipeline.open_repository(db)
    try:
        pipeline.import_inventory(repo, "csv", "mdm", [devices, apps], at=at, max_rejected=5, allow_shrink=True)
    finally:
        repo.close()


def _run(db: str, folder: Path, at: datetime, **kwargs: object) -> NoticeRun:
    repo = pipeline.open_repository(db)
    try:
        settings = notify_settings(folder / "notify.yaml", environ=ENV)
        return send_notices(repo, pipeline.read_policy(folder / "policy.yaml"), settings, now=at, environ=ENV,
                            clock=lambda: at, **kwargs)  # type: ignore[arg-type]
    finally:
        repo.close()


@pytest.fixture()
def program(db_url: str, tmp_path: Path, smtp_server: SmtpServer) -> tuple[str, Path]:
    (tmp_path / "policy.yaml").write_text(POLICY, "utf-8")
    (tmp_path / "contacts.yaml").write_text(CONTACTS, "utf-8")
    (tmp_path / "notify.yaml").write_text(f"""\
reminders: [7]
escalate_after_days: 1
contacts: contacts.yaml
channels:
  - type: email
    host: {smtp_server.host}
    port: {smtp_server.port}
    username: interdit
    password_env: TEST_SMTP_PASSWORD
    sender: "IT Security <security@example.org>"
    cafile: {smtp_server.cafile}
""", "utf-8")
    return db_url, tmp_path


ALICE = "alice@example.org"
FLEET: dict[str, tuple[str, list[str]]] = {
    "phone-alice": (ALICE, ["tiktok", "wechat"]),
    "tablet-alice": (ALICE, ["tiktok"]),
    "phone-frank": ("frank@example.org", ["wechat"]),
}


def test_a_holder_hears_once_per_step_about_every_app_and_device(program: tuple[str, Path],
                                                                  smtp_server: SmtpServer) -> None:
    db, folder = program
    _import(db, folder / "in", T0, {"phone-alice": (ALICE, ["tiktok"])})
    assert _run(db, folder, _day(2, 10)).sent == 1  # TikTok on her phone: told alone

    _import(db, folder / "in", _day(3, 8), FLEET)  # WeChat too, and a tablet with TikTok; Frank with WeChat
    dry = _run(db, folder, _day(3, 10), dry_run=True)
    [alice_row] = [r for r in dry.rows if r["recipients"] == [ALICE]]
    assert len(alice_row["keys"]) == 2 and alice_row["status"] == "would_send"  # the grouping, shown dry
    run = _run(db, folder, _day(3, 10))
    assert run.sent == 2
    alice = smtp_server.to(ALICE)
    assert len(alice) == 2
    mail = alice[1].message
    # the one already told (TikTok on her phone) is not repeated: WeChat on the phone, TikTok on the tablet
    assert _subject(mail) == "Action required: remove 2 prohibited apps from 2 devices by March 15, 2026"
    body = mail.get_content()
    assert "- WeChat (com.tencent.mm) on phone-alice of alice" in body
    assert "- TikTok (com.zhiliaoapp.musically) on tablet-alice of alice" in body
    assert body.count("Reference: F-") == 2 and "Remove App" in body
    assert "frank" not in body
    assert [m.rcpt_tos for m in smtp_server.to("frank@example.org")] == [["frank@example.org"]]

    # each finding's first notice is recorded as sent: a restart repeats none
    assert _run(db, folder, _day(3, 11)).sent == 0
    repo = pipeline.open_repository(db)
    firsts = [r for r in pipeline.notify.sent_notices(repo) if r["kind"] == "first" and r["status"] == "sent"]
    repo.close()
    assert len(firsts) == len({r["key"] for r in firsts}) == 4

    # the reminder 7 days before: one message for her three findings, in French too when asked
    _run(db, folder, _day(8))
    reminder = smtp_server.to(ALICE)[-1].message
    assert _subject(reminder) == "Reminder: 3 prohibited apps must be removed from 2 devices by March 15, 2026"
    assert reminder.get_content().count("Reference: F-") == 3

    # overdue: the unit's contact hears once about the four findings of the unit
    late = _run(db, folder, _day(16))
    assert late.sent == 1
    [escalation] = smtp_server.to("finance.manager@example.org")
    assert _subject(escalation.message) == "Overdue: 4 prohibited apps are still on devices of /Ministry/Finance"
    text = escalation.message.get_content()
    assert text.count("Reference: F-") == 4 and "held by frank@example.org (told)" in text
    keys = {m.message["X-Interdit-Notice"] for m in smtp_server.messages}
    assert len(keys) == len(smtp_server.messages)  # every message its own key


def test_a_device_that_leaves_is_closed_once_in_its_own_words(program: tuple[str, Path],
                                                              smtp_server: SmtpServer) -> None:
    db, folder = program
    _import(db, folder / "in", T0, FLEET)
    assert _run(db, folder, _day(2, 10)).sent == 2
    # the tablet is retired: gone from the source's next snapshot
    _import(db, folder / "in", _day(5, 8), {k: v for k, v in FLEET.items() if k != "tablet-alice"})
    run = _run(db, folder, _day(5, 10))
    assert run.sent == 1
    mail = smtp_server.messages[-1]
    assert mail.rcpt_tos == [ALICE]
    assert _subject(mail.message) == "Closed: tablet-alice of alice is no longer managed"
    body = mail.message.get_content()
    assert "is no longer managed: it left mdm" in body and "TikTok" in body
    assert "Thank you" not in body  # not a removal of the app
    assert _run(db, folder, _day(6)).sent == 0  # once
    assert _run(db, folder, _day(20)).skipped.get("no_contact", 0) == 0


def test_a_device_that_could_not_be_read_is_not_closed(program: tuple[str, Path], smtp_server: SmtpServer) -> None:
    db, folder = program
    _import(db, folder / "in", T0, FLEET)
    assert _run(db, folder, _day(2, 10)).sent == 2
    # the tablet's record is unreadable in the next snapshot: it is kept, not evaluable, never "resolved"
    _import(db, folder / "in", _day(5, 8), {k: v for k, v in FLEET.items() if k != "tablet-alice"},
            broken="tablet-alice")
    run = _run(db, folder, _day(5, 10))
    assert run.sent == 0 and run.skipped.get("not_evaluable", 0) >= 1
    assert len(smtp_server.messages) == 2
    assert not any("closing" in m.message["X-Interdit-Notice"] for m in smtp_server.messages)
