"""The notice lifecycle against a real SMTP server (STARTTLS, sign-in) and a real webhook receiver: first notice,
reminders, escalation, closing; each once, across restarts; never for excepted or not-evaluable devices."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from notify_fleet import HOOK_SECRET, REMOVED, T0, import_snapshot, write_policy, write_settings
from notify_receivers import SMTP_PASSWORD, SmtpServer, WebhookReceiver

from interdit import pipeline
from interdit.notify.channels import Channel, channels
from interdit.notify.channels.webhook import verify
from interdit.pipeline.notify import NoticeRun, notify_settings, send_notices
from interdit.storage.audit import AuditLog

ENV = {"TEST_SMTP_PASSWORD": SMTP_PASSWORD, "TEST_HOOK_SECRET": HOOK_SECRET}
NEVER = ("carol@example.org", "dave@example.org", "erin@example.org")  # excepted, not evaluable, compliant


def _run(db: str, folder: Path, at: datetime, **kwargs: object) -> NoticeRun:
    """One run as a nightly job makes it: a fresh process (a new connection to the database)."""
    repo = pipeline.open_repository(db)
    try:
        loaded = pipeline.read_policy(folder / "policy.yaml")
        settings = notify_settings(folder / "notify.yaml", environ=ENV)
        return send_notices(repo, loaded, settings, now=at, environ=ENV, clock=lambda: at,
                            **kwargs)  # type: ignore[arg-type]
    finally:
        repo.close()


@pytest.fixture()
def program(db_url: str, tmp_path: Path, smtp_server: SmtpServer, webhook_receiver: WebhookReceiver
            ) -> tuple[str, Path]:
    """The fleet imported into a database (SQLite, then PostgreSQL), the policy and the settings."""
    db = db_url
    repo = pipeline.open_repository(db)
    import_snapshot(repo, tmp_path / "in", T0)
    repo.close()
    write_policy(tmp_path)
    write_settings(tmp_path, smtp=smtp_server, hooks_url=webhook_receiver.url)
    return db, tmp_path


def test_the_whole_lifecycle_once_each_across_restarts(program: tuple[str, Path], smtp_server: SmtpServer,
                                                       webhook_receiver: WebhookReceiver) -> None:
    db, folder = program
    day = lambda d, h=9: datetime(2026, 3, d, h, 0, tzinfo=T0.tzinfo)  # noqa: E731

    # 2 March: Alice is told; Bob's source gives no e-mail (no contact); Carol is excepted, Dave not evaluable
    first = _run(db, folder, day(2, 10))
    assert (first.sent, first.failed) == (1, 0)
    assert first.skipped == {"excepted": 1, "no_contact": 1, "not_evaluable": 1}
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["alice@example.org"] and mail.tls and mail.authenticated
    assert mail.message["Subject"] == "Action required: remove TikTok from Alice's Pixel by March 15, 2026"
    body = mail.message.get_content()
    assert "Remove App" in body and "Uninstall" in body  # what to do on iOS and on Android
    assert "exceptions@example.org" in body and "Pixel 8" in body
    [teams] = webhook_receiver.at("/teams")
    card = teams.json()["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and card["body"][0]["text"] == mail.message["Subject"]
    assert webhook_receiver.at("/slack") == []  # this Slack channel carries escalations only
    [hook] = webhook_receiver.at("/hook")
    stamp = hook.headers["x-interdit-timestamp"]
    assert verify(HOOK_SECRET, stamp, hook.body, hook.headers["x-interdit-signature"], now=float(stamp))
    assert not verify("another secret", stamp, hook.body, hook.headers["x-interdit-signature"], now=float(stamp))
    assert hook.json()["recipients"] == ["alice@example.org"] and hook.json()["kind"] == "first"

    # the same night again, as after a restart: nothing new
    again = _run(db, folder, day(2, 11))
    assert (again.sent, len(smtp_server.messages), len(webhook_receiver.posts)) == (0, 1, 2)

    # 8 March (7 days before the deadline) and 14 March (the day before): one reminder each, and only once
    assert _run(db, folder, day(8)).sent == 1
    assert _run(db, folder, day(10)).sent == 0
    assert _run(db, folder, day(14)).sent == 1
    reminders = [m.message["Subject"] for m in smtp_server.messages[1:]]
    assert reminders == ["Reminder: TikTok must be removed from Alice's Pixel by March 15, 2026"] * 2
    assert "The deadline is in 7 days" in smtp_server.messages[1].message.get_content()
    assert "The deadline is tomorrow" in smtp_server.messages[2].message.get_content()

    # 15 March is the deadline; escalate_after_days: 1, so the managers hear on the 16th, not before
    assert _run(db, folder, day(15, 12)).sent == 0
    late = _run(db, folder, day(16))
    assert late.sent == 2
    assert sorted(m.rcpt_tos for m in smtp_server.messages[3:]) == [["finance.manager@example.org"],
                                                                    ["it.manager@example.org"]]
    finance = smtp_server.to("finance.manager@example.org")[0].message.get_content()
    it = smtp_server.to("it.manager@example.org")[0].message.get_content()
    assert "alice@example.org was told" in finance
    assert "the holder could not be told" in it  # Bob was never reachable
    assert len(webhook_receiver.at("/slack")) == 2

    # Alice removes the app: she and her manager hear it is closed; Bob's finding stays open, silent
    repo = pipeline.open_repository(db)
    import_snapshot(repo, folder / "in", REMOVED, alice_has_tiktok=False)
    repo.close()
    closing = _run(db, folder, day(20, 12))
    assert closing.sent == 1
    last = smtp_server.messages[-1]
    assert sorted(last.rcpt_tos) == ["alice@example.org", "finance.manager@example.org"]
    assert last.message["Subject"] == "Resolved: TikTok is no longer on Alice's Pixel"
    assert _run(db, folder, day(21)).sent == 0
    assert _run(db, folder, day(28)).sent == 0

    # six notices in all, each once; nobody excepted, not evaluable or compliant ever heard anything
    keys = [m.message["X-Interdit-Notice"] for m in smtp_server.messages]
    assert len(keys) == len(set(keys)) == 6
    assert not any(a in m.rcpt_tos for m in smtp_server.messages for a in NEVER)
    assert not any(a in p.body.decode() for p in webhook_receiver.posts for a in NEVER)

    # the database and the audit trail say the same: one entry per delivery
    repo = pipeline.open_repository(db)
    recorded = pipeline.notify.sent_notices(repo)
    audit = [e for e in AuditLog(repo.engine).iter_all() if e.action.startswith("notice.")]
    assert AuditLog(repo.engine).verify().ok
    repo.close()
    deliveries = len(smtp_server.messages) + len(webhook_receiver.posts)
    assert len(recorded) == len(audit) == deliveries
    assert {e.action for e in audit} == {"notice.sent"}
    assert {(r["key"], r["channel"]) for r in recorded} == {(e.after["key"], e.after["channel"]) for e in audit}


def test_the_dry_run_shows_exactly_what_a_real_run_sends_and_changes_nothing(
        program: tuple[str, Path], smtp_server: SmtpServer, webhook_receiver: WebhookReceiver) -> None:
    db, folder = program
    at = datetime(2026, 3, 16, 9, 0, tzinfo=T0.tzinfo)  # past the deadline: nobody was told yet
    dry = _run(db, folder, at, dry_run=True)
    assert smtp_server.messages == [] and webhook_receiver.posts == []
    repo = pipeline.open_repository(db)
    assert pipeline.notify.sent_notices(repo) == []
    assert [e for e in AuditLog(repo.engine).iter_all() if e.action.startswith("notice.")] == []
    repo.close()
    assert {r["status"] for r in dry.rows} == {"would_send"}
    real = _run(db, folder, at)
    shown = sorted((tuple(r["recipients"]), r["subject"], r["body"]) for r in dry.rows)
    sent = sorted((tuple(m.rcpt_tos), m.message["Subject"], m.message.get_content().replace("\r\n", "\n"))
                  for m in smtp_server.messages)
    assert shown == sent and real.sent == len(sent) == 2
    # Alice's first notice on every channel but Slack (escalations only); Bob's escalation on all four
    assert sorted(r["channels"] for r in dry.rows) == [["email", "teams", "slack", "webhook"],
                                                      ["email", "teams", "webhook"]]
    assert sorted(r["channels"] for r in dry.rows) == sorted(r["channels"] for r in real.rows)


def test_a_failed_delivery_is_tried_again_next_run_and_a_delivered_one_is_not(
        tmp_path: Path, webhook_receiver: WebhookReceiver) -> None:
    db = f"sqlite:///{tmp_path / 'interdit.db'}"
    repo = pipeline.open_repository(db)
    import_snapshot(repo, tmp_path / "in", T0)
    repo.close()
    write_policy(tmp_path)
    write_settings(tmp_path, channels=f"""\
  - type: webhook
    url: {webhook_receiver.url}/hook
    secret_env: TEST_HOOK_SECRET
""")
    at = T0 + timedelta(hours=2)
    webhook_receiver.status = 500
    failed = _run(db, folder=tmp_path, at=at)
    assert (failed.sent, failed.failed) == (0, 1) and failed.rows[0]["deliveries"] == {"webhook": "failed"}
    webhook_receiver.status = 200
    retried = _run(db, tmp_path, at + timedelta(hours=1))
    assert (retried.sent, retried.failed) == (1, 0)
    assert _run(db, tmp_path, at + timedelta(hours=2)).sent == 0
    assert len(webhook_receiver.posts) == 2
    assert webhook_receiver.posts[0].headers["x-interdit-notice"] == webhook_receiver.posts[1].headers[
        "x-interdit-notice"]
    repo = pipeline.open_repository(db)
    actions = [e.action for e in AuditLog(repo.engine).iter_all() if e.action.startswith("notice.")]
    [record] = pipeline.notify.sent_notices(repo)
    repo.close()
    assert actions == ["notice.failed", "notice.sent"]
    assert (record["status"], record["attempts"], record["error"]) == ("sent", 2, None)


def test_at_most_per_run_notices_in_a_run_and_the_rest_the_next(program: tuple[str, Path],
                                                                smtp_server: SmtpServer) -> None:
    db, folder = program
    at = datetime(2026, 3, 16, 9, 0, tzinfo=T0.tzinfo)  # two notices are due: Alice's first, Bob's escalation
    write_settings(folder, smtp=smtp_server, extra="throttle: {per_run: 1, per_minute: 0}")
    one = _run(db, folder, at)
    assert (one.sent, one.deferred, len(smtp_server.messages)) == (1, 1, 1)
    assert [r["status"] for r in one.rows] == ["sent", "deferred"]
    next_run = _run(db, folder, at + timedelta(hours=1))
    assert (next_run.sent, next_run.deferred, len(smtp_server.messages)) == (1, 0, 2)
    assert next_run.rows[0]["key"] == one.rows[1]["key"]


def test_at_most_per_minute_notices_a_minute(program: tuple[str, Path], smtp_server: SmtpServer,
                                             webhook_receiver: WebhookReceiver) -> None:
    db, folder = program
    write_settings(folder, smtp=smtp_server, hooks_url=webhook_receiver.url,
                   extra="throttle: {per_run: 10, per_minute: 1}")
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    run = _run(db, folder, datetime(2026, 3, 16, 9, 0, tzinfo=T0.tzinfo), sleep=sleep, monotonic=lambda: clock[0])
    assert run.sent == 2 and len(smtp_server.messages) == 2
    # seven deliveries (Alice's first notice on three channels, Bob's escalation on four), two notices: the
    # second waits for the minute to end, once
    assert len(webhook_receiver.posts) == 5 and slept == [60.0]


def test_a_wrong_smtp_password_fails_clearly_and_sends_nothing(program: tuple[str, Path],
                                                               smtp_server: SmtpServer) -> None:
    db, folder = program
    write_settings(folder, smtp=smtp_server)
    repo = pipeline.open_repository(db)
    loaded = pipeline.read_policy(folder / "policy.yaml")
    env = {**ENV, "TEST_SMTP_PASSWORD": "wrong"}
    settings = notify_settings(folder / "notify.yaml", environ=env)
    run = send_notices(repo, loaded, settings, now=T0 + timedelta(hours=1), environ=env)
    repo.close()
    assert run.failed == 1 and smtp_server.messages == [] and smtp_server.refused_logins >= 1
    assert run.rows[0]["deliveries"] == {"email": "failed"}
    repo = pipeline.open_repository(db)
    [record] = pipeline.notify.sent_notices(repo)
    repo.close()
    assert record["status"] == "failed" and "refused the sign-in of interdit" in record["error"]


def test_a_channel_that_failed_is_tried_again_without_repeating_the_others(
        program: tuple[str, Path], smtp_server: SmtpServer, webhook_receiver: WebhookReceiver) -> None:
    db, folder = program
    at = T0 + timedelta(hours=1)
    repo = pipeline.open_repository(db)
    loaded = pipeline.read_policy(folder / "policy.yaml")
    env = {**ENV, "TEST_SMTP_PASSWORD": "wrong"}
    first = send_notices(repo, loaded, notify_settings(folder / "notify.yaml", environ=env), now=at, environ=env)
    repo.close()
    assert first.rows[0]["deliveries"] == {"email": "failed", "teams": "sent", "webhook": "sent"}
    assert (first.sent, first.failed, first.failed_deliveries) == (1, 0, 1)  # two channels took it; one owes it
    assert smtp_server.messages == [] and len(webhook_receiver.posts) == 2
    second = _run(db, folder, at + timedelta(hours=1))  # the password is fixed
    assert second.rows[0]["deliveries"] == {"email": "sent", "teams": "already_sent", "webhook": "already_sent"}
    assert len(smtp_server.messages) == 1 and len(webhook_receiver.posts) == 2
    assert _run(db, folder, at + timedelta(hours=2)).rows == []


def test_two_processes_at_once_send_each_notice_once(program: tuple[str, Path], smtp_server: SmtpServer,
                                                     webhook_receiver: WebhookReceiver) -> None:
    import threading

    db, folder = program
    at = datetime(2026, 3, 16, 9, 0, tzinfo=T0.tzinfo)  # two notices due, on three and four channels
    runs: list[NoticeRun] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait()
            runs.append(_run(db, folder, at))
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and len(runs) == 2
    keys = [m.message["X-Interdit-Notice"] for m in smtp_server.messages]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 2
    assert len(webhook_receiver.posts) == 5  # 3 + 4 deliveries, less the two e-mails
    assert sum(r.failed_deliveries for r in runs) == 0
    # every delivery was made by one of the two; the other found it taken, or (when it planned after the first
    # had finished) did not plan it at all
    made = [(row["key"], ch) for r in runs for row in r.rows for ch, v in row["deliveries"].items() if v == "sent"]
    taken = [(row["key"], ch) for r in runs for row in r.rows for ch, v in row["deliveries"].items()
             if v == "already_sent"]
    assert len(made) == len(set(made)) == 7 and set(taken) <= set(made)
    repo = pipeline.open_repository(db)
    recorded = pipeline.notify.sent_notices(repo)
    repo.close()
    assert sorted((r["key"], r["channel"]) for r in recorded) == sorted(made)


_FLAKY_CALLS: list[str] = []


@channels.register("test-flaky")
class _Flaky(Channel):
    """A channel whose first delivery breaks (a plugin's bug)."""

    def send(self, notice: object, message: object) -> None:
        _FLAKY_CALLS.append("send")
        if len(_FLAKY_CALLS) == 1:
            raise RuntimeError("a bug in a plugin")


def test_a_channel_that_breaks_is_recorded_failed_and_tried_again(program: tuple[str, Path]) -> None:
    _FLAKY_CALLS.clear()
    db, folder = program
    write_settings(folder, channels="  - type: test-flaky\n")
    first = _run(db, folder, T0 + timedelta(hours=1))
    assert first.failed_deliveries == 1 and first.rows[0]["deliveries"] == {"test-flaky": "failed"}
    repo = pipeline.open_repository(db)
    [record] = pipeline.notify.sent_notices(repo)
    repo.close()
    assert record["status"] == "failed" and record["error"] == "RuntimeError: a bug in a plugin"
    second = _run(db, folder, T0 + timedelta(hours=2))
    assert second.sent == 1 and _FLAKY_CALLS == ["send", "send"]
