"""The plan of notices due: a pure function of the findings, devices, contacts, what was sent and the time."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interdit.errors import ConfigError
from interdit.model import AppId, Device, Finding, FindingKind, FindingState, Management, Ownership, Platform
from interdit.notify import Contacts, NotifyConfig, parse_config, parse_contacts, plan_notices

DEADLINE = date(2026, 3, 15)
T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONTACTS = parse_contacts("""\
default: {contacts: [security@example.org]}
org_units:
  /Ministry/Finance: {contacts: [finance@example.org], lang: fr}
people:
  bob: bob.martin@example.org
""")
CONFIG = NotifyConfig(reminders=(7, 1), escalate_after_days=0)


def _device(user: str | None = "alice@example.org") -> Device:
    return Device("mdm", "d1", Platform.ANDROID, Ownership.CORPORATE, Management.FULLY_MANAGED, T, user=user,
                  org_unit="/Ministry/Finance/Payroll")


def _finding(state: FindingState = FindingState.VIOLATION, **kw: object) -> Finding:
    base = Finding("F-1", FindingKind.INSTALLED, state, "mdm", "d1", "r", "tiktok", None, T, T, DEADLINE,
                   app=AppId(Platform.ANDROID, "com.zhiliaoapp.musically"), org_unit="/Ministry/Finance/Payroll")
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def _plan(at: datetime, sent: dict[str, datetime], finding: Finding | None = None,
          user: str | None = "alice@example.org", contacts: Contacts = CONTACTS,
          config: NotifyConfig = CONFIG) -> list[tuple[str, tuple[str, ...]]]:
    plan = plan_notices([finding or _finding()], {("mdm", "d1"): _device(user)}, contacts, config, now=at, sent=sent)
    return [(n.step, n.recipients) for n in plan.notices]


def test_first_then_the_nearest_reminder_then_escalation_to_the_units_contact() -> None:
    assert _plan(T, {}) == [("first", ("alice@example.org",))]
    sent = {"F-1/first": T}
    assert _plan(T + timedelta(days=1), sent) == []
    assert _plan(datetime(2026, 3, 8, 0, 0, tzinfo=UTC), sent) == [("reminder-7", ("alice@example.org",))]
    sent["F-1/reminder-7"] = datetime(2026, 3, 8, tzinfo=UTC)
    assert _plan(datetime(2026, 3, 12, tzinfo=UTC), sent) == []
    assert _plan(datetime(2026, 3, 14, 23, tzinfo=UTC), sent) == [("reminder-1", ("alice@example.org",))]
    sent["F-1/reminder-1"] = datetime(2026, 3, 14, 23, tzinfo=UTC)
    # the unit /Ministry/Finance/Payroll has no contact of its own: the unit above it does
    assert _plan(datetime(2026, 3, 15, 0, 0, tzinfo=UTC), sent) == [("escalation", ("finance@example.org",))]


def test_a_late_first_notice_skips_the_reminders_already_past_and_waits_before_escalating() -> None:
    late = datetime(2026, 3, 10, tzinfo=UTC)  # found 5 days before the deadline
    assert _plan(late, {}) == [("first", ("alice@example.org",))]
    sent = {"F-1/first": late}
    assert _plan(late + timedelta(days=1), sent) == []  # reminder-7 is past: not sent after the first notice
    assert _plan(datetime(2026, 3, 14, 1, tzinfo=UTC), sent)[0][0] == "reminder-1"
    after = datetime(2026, 3, 20, tzinfo=UTC)  # found after the deadline: the holder first, the manager next run
    assert _plan(after, {}) == [("first", ("alice@example.org",))]
    assert _plan(after + timedelta(hours=1), {"F-1/first": after}) == [("escalation", ("finance@example.org",))]


def test_an_owner_without_an_email_is_no_contact_but_the_manager_still_hears_after_the_deadline() -> None:
    plan = plan_notices([_finding()], {("mdm", "d1"): _device("Alice Tremblay")}, CONTACTS, CONFIG, now=T, sent={})
    assert plan.notices == () and plan.skipped == {"no_contact": 1}
    after = datetime(2026, 3, 15, 1, tzinfo=UTC)
    plan = plan_notices([_finding()], {("mdm", "d1"): _device("Alice Tremblay")}, CONTACTS, CONFIG, now=after,
                        sent={})
    assert [(n.step, n.holder_told) for n in plan.notices] == [("escalation", False)]
    # the contacts file's people: give an e-mail for an owner the source names otherwise
    assert _plan(T, {}, user="bob") == [("first", ("bob.martin@example.org",))]
    assert _plan(after, {}, user="Alice Tremblay", contacts=Contacts()) == []  # nobody at all: counted, not sent


@pytest.mark.parametrize(("state", "reason"), [(FindingState.EXCEPTED, "excepted"),
                                                (FindingState.NOT_EVALUABLE, "not_evaluable"),
                                                (FindingState.STALE, "stale")])
def test_nothing_for_excepted_not_evaluable_or_stale_findings_even_when_notices_were_sent(
        state: FindingState, reason: str) -> None:
    for at in (T, datetime(2026, 3, 14, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)):
        plan = plan_notices([_finding(state)], {("mdm", "d1"): _device()}, CONTACTS, CONFIG, now=at,
                            sent={"F-1/first": T})
        assert plan.notices == () and plan.skipped == {reason: 1}


def test_closing_only_for_a_finding_someone_was_told_about_and_to_those_told() -> None:
    resolved = _finding(FindingState.RESOLVED, resolved_at=datetime(2026, 3, 20, tzinfo=UTC))
    at = datetime(2026, 3, 21, tzinfo=UTC)
    assert _plan(at, {}, resolved) == []
    assert _plan(at, {"F-1/first": T}, resolved) == [("closing", ("alice@example.org",))]
    assert _plan(at, {"F-1/first": T, "F-1/escalation": T}, resolved) == [
        ("closing", ("alice@example.org", "finance@example.org"))]
    assert _plan(at, {"F-1/first": T, "F-1/closing": at}, resolved) == []


def test_the_units_language_wins_over_the_settings() -> None:
    plan = plan_notices([_finding()], {("mdm", "d1"): _device()}, CONTACTS, CONFIG, now=T, sent={})
    assert plan.notices[0].lang == "fr"
    elsewhere = _finding(org_unit="/Ministry/IT")
    plan = plan_notices([elsewhere], {}, CONTACTS, dataclasses.replace(CONFIG, language="en-fr"), now=T, sent={})
    assert plan.skipped == {"no_contact": 1}  # no device read: no owner to tell


@settings(max_examples=200, deadline=None)
@given(days=st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=12))
def test_replaying_any_sequence_of_runs_sends_each_notice_at_most_once(days: list[int]) -> None:
    sent: dict[str, datetime] = {}
    seen: list[str] = []
    for d in sorted(days):
        at = T + timedelta(days=d, hours=1)
        for step, _ in _plan(at, sent):
            seen.append(step)
            sent[f"F-1/{step}"] = at
    assert len(seen) == len(set(seen))
    assert seen[:1] in ([], ["first"])  # nothing comes before the first notice
    order = ["first", "reminder-7", "reminder-1", "escalation"]
    assert [s for s in order if s in seen] == seen


def test_settings_and_contacts_errors_name_the_file_and_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("language: en\nreminders: [7, 1]\nthrotle: {per_run: 5}\n", "notify.yaml")
    assert info.value.where == "notify.yaml:3" and "throttle" in (info.value.fix or "")
    with pytest.raises(ConfigError) as info:
        parse_config("channels:\n  - type: email\n  - name: x\n", "notify.yaml")
    assert info.value.where == "notify.yaml:3" and "type" in (info.value.fix or "")
    with pytest.raises(ConfigError) as info:
        parse_config("language: de\n", "notify.yaml")
    assert "en-fr" in (info.value.fix or "")
    with pytest.raises(ConfigError) as info:
        parse_contacts("org_units:\n  /A: {contacts: [a@example.org]}\n  /B: [not-an-address]\n", "contacts.yaml")
    assert info.value.where == "contacts.yaml:3" and "not-an-address" in info.value.message
    with pytest.raises(ConfigError) as info:
        parse_contacts("default: [a@example.org\n", "contacts.yaml")
    assert (info.value.where or "").startswith("contacts.yaml:")


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=300), st.builds(
    lambda k, v, w: f"{k}:\n  {v}: {w}\n", st.sampled_from(["default", "org_units", "people", "throttle",
                                                            "channels", "reminders", "language"]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20), st.text(max_size=20))))
def test_any_text_either_reads_or_is_a_config_error(text: str) -> None:
    """The two files are read or refused with a clear error; nothing else escapes (no crash on odd input)."""
    for parse, name in ((parse_contacts, "contacts.yaml"), (parse_config, "notify.yaml")):
        try:
            parse(text, name)  # type: ignore[operator]
        except ConfigError as e:
            assert (e.where or "").startswith(name) and e.fix
