"""Notices in English, in French as it is printed, bilingual in one message, and in the organisation's own words."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from interdit.errors import ConfigError
from interdit.i18n import NBSP, NNBSP, typeset_fr
from interdit.model import AppId, Device, Finding, FindingKind, FindingState, Management, Ownership, Platform
from interdit.notify import Notice, NoticeKind, Templates
from interdit.notify.render import format_date
from reporting.test_french_typography import offences

NOW = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
DEVICE = Device("mdm", "phone-1", Platform.IOS, Ownership.CORPORATE, Management.FULLY_MANAGED, NOW,
                user="alice@example.org", name="iPhone d'Alice", model="iPhone 15", os_version="18.2",
                org_unit="/Ministère/Finances")
FINDING = Finding("F-0123456789abcdef", FindingKind.INSTALLED, FindingState.VIOLATION, "mdm", "phone-1", "no-tiktok",
                  "tiktok", "ca-tbs-2023-tiktok", NOW, NOW, date(2026, 3, 1), app=AppId(Platform.IOS,
                                                                                       "com.zhiliaoapp.musically"),
                  org_unit="/Ministère/Finances")
NAMES = {"tiktok": "TikTok"}


def _notice(kind: NoticeKind, lang: str, **kw: object) -> Notice:
    step = {NoticeKind.REMINDER: "reminder-7"}.get(kind, kind.value)
    return Notice(f"{FINDING.id}/{step}", kind, FINDING, DEVICE, ("alice@example.org",), "holder", lang,
                  **kw)  # type: ignore[arg-type]


def _render(kind: NoticeKind, lang: str, folder: Path | None = None, **kw: object) -> tuple[str, str]:
    m = Templates(folder).render(_notice(kind, lang, **kw), organisation="Ministère des Exemples",
                                 exception_contact="derogations@example.org", family_names=NAMES)
    return m.subject, m.body


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_french_notice_follows_french_typography(kind: NoticeKind) -> None:
    days = 7 if kind is NoticeKind.REMINDER else 15 if kind is NoticeKind.ESCALATION else None
    subject, body = _render(kind, "fr", days=days, holder_told=True)
    assert offences(subject) == [] and offences(body) == []
    assert "1er mars 2026" in subject + body or kind is NoticeKind.CLOSING
    assert f"Référence{NBSP}: {FINDING.id}" in body
    if kind is not NoticeKind.CLOSING:  # what to do on iOS and on Android, and whom to ask for an exception
        assert "iPhone ou un iPad (iOS)" in body and "Sur Android" in body
        assert f"«{NBSP}Désinstaller{NBSP}»" in body and "derogations@example.org" in body


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_english_notice_says_the_deadline_what_to_do_and_whom_to_ask(kind: NoticeKind) -> None:
    days = 1 if kind is NoticeKind.REMINDER else 15 if kind is NoticeKind.ESCALATION else None
    subject, body = _render(kind, "en", days=days, holder_told=False)
    assert NBSP not in body and NNBSP not in body
    assert "iPhone d'Alice (iPhone 15, iOS 18.2)" in body and "TikTok (com.zhiliaoapp.musically)" in body
    if kind is not NoticeKind.CLOSING:
        assert "March 1, 2026" in subject + body
        assert "Remove App" in body and "Uninstall" in body and "derogations@example.org" in body
    if kind is NoticeKind.ESCALATION:
        assert "the holder could not be told" in body


@pytest.mark.parametrize(("lang", "first", "second"), [("en-fr", "en", "fr"), ("fr-en", "fr", "en")])
def test_a_bilingual_notice_holds_both_languages_the_first_one_first(lang: str, first: str, second: str) -> None:
    subject, body = _render(NoticeKind.FIRST, lang)
    en_subject, en_body = _render(NoticeKind.FIRST, "en")
    fr_subject, fr_body = _render(NoticeKind.FIRST, "fr")
    subjects = {"en": en_subject, "fr": fr_subject}
    bodies = {"en": en_body, "fr": fr_body}
    assert subject == f"{subjects[first]} / {subjects[second]}"
    note = {"en": "(Le français suit)", "fr": "(English follows)"}[first]
    assert body.startswith(note)
    assert body.index(bodies[first]) < body.index(bodies[second])
    assert offences(body) == []  # the French half keeps its typography


def test_the_organisation_overrides_one_template_and_keeps_the_others(tmp_path: Path) -> None:
    (tmp_path / "first.fr.txt").write_text(
        "Subject: {{ organisation }} : {{ app }} à retirer avant le {{ deadline }}\n\n"
        "Appareil : {{ device_name }} ; détenteur : {{ owner }}. Questions ? Écrivez à {{ exception_contact }} !\n",
        "utf-8")
    subject, body = _render(NoticeKind.FIRST, "fr", tmp_path)
    assert subject == f"Ministère des Exemples{NBSP}: TikTok à retirer avant le 1er mars 2026"
    assert body == (f"Appareil{NBSP}: iPhone d'Alice{NNBSP}; détenteur{NBSP}: alice@example.org. "
                    f"Questions{NNBSP}? Écrivez à derogations@example.org{NNBSP}!\n")
    _, reminder = _render(NoticeKind.REMINDER, "fr", tmp_path, days=7)
    assert reminder.startswith("Bonjour,")  # the built-in one


def test_a_template_that_cannot_render_names_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "first.en.txt").write_text("Subject: hello\n\nDear {{ holder_name }},\n", "utf-8")
    with pytest.raises(ConfigError) as info:
        _render(NoticeKind.FIRST, "en", tmp_path)
    assert "first.en.txt" in str(info.value) and "holder_name" in str(info.value)
    (tmp_path / "first.en.txt").write_text("Hello {{ owner }}\n", "utf-8")
    with pytest.raises(ConfigError) as info:
        _render(NoticeKind.FIRST, "en", tmp_path)
    assert "Subject: " in (info.value.fix or "")
    (tmp_path / "first.en.txt").write_text("Subject: {{ ''.__class__.__mro__ }}\n\nx\n", "utf-8")
    with pytest.raises(ConfigError):  # the sandbox refuses what a template must not reach
        _render(NoticeKind.FIRST, "en", tmp_path)
    with pytest.raises(ConfigError) as info:
        Templates(tmp_path / "missing")
    assert "missing" in str(info.value)


def test_french_dates_and_typography() -> None:
    assert format_date(date(2026, 3, 1), "fr") == "1er mars 2026"
    assert format_date(date(2026, 8, 15), "fr") == "15 août 2026"
    assert format_date(date(2026, 8, 15), "en") == "August 15, 2026"
    assert typeset_fr("« Oui ! » : non ; pourquoi ?") == \
        f"«{NBSP}Oui{NNBSP}!{NBSP}»{NBSP}: non{NNBSP}; pourquoi{NNBSP}?"


def test_a_use_seen_on_the_network_is_told_as_such() -> None:
    used = Notice(f"{FINDING.id}/first", NoticeKind.FIRST, _replace_kind(FindingKind.USED), DEVICE,
                  ("alice@example.org",), "holder", "en-fr")
    body = Templates().render(used, organisation="M", exception_contact="").body
    assert "seen on the network" in body and "observée sur le réseau" in body
    assert "It was found on a device" not in body


def _replace_kind(kind: FindingKind) -> Finding:
    import dataclasses

    return dataclasses.replace(FINDING, kind=kind)


def _two_units() -> Notice:
    """An escalation about two findings of two units under one contact: one message listing both."""
    from dataclasses import replace

    from interdit.notify.plan import group_message

    other = replace(FINDING, id="F-1111111111111111", family="wechat", app=AppId(Platform.IOS, "com.tencent.xin"),
                    org_unit="/Ministère/Communications")
    items = tuple(Notice(f"{f.id}/escalation", NoticeKind.ESCALATION, f, DEVICE, ("gestion@example.org",), "contact",
                         "fr-en", 15, holder_told=told) for f, told in ((FINDING, True), (other, False)))
    return group_message(items)


def test_a_message_about_several_findings_lists_each_in_both_languages() -> None:
    m = Templates().render(_two_units(), organisation="Ministère des Exemples", exception_contact="",
                           family_names={**NAMES, "wechat": "WeChat"})
    french, english = m.body.split("—" * 40)
    assert m.subject.startswith(f"Échéance dépassée{NBSP}: 2 applications interdites")
    assert "/Ministère" in m.subject and "/Ministère/Finances" not in m.subject  # the unit above both
    for half, ref in ((french, f"Référence{NBSP}: "), (english, "Reference: ")):
        assert half.count(ref + "F-") == 2
    assert "TikTok (com.zhiliaoapp.musically) on iPhone d'Alice" in english and "(told)" in english
    assert "WeChat (com.tencent.xin) sur l'appareil iPhone d'Alice" in french
    assert "(qui n'a pas pu être informé)" in french
    assert offences(french) == [] and offences(m.subject) == []


def test_a_long_bilingual_subject_reads_back_whole_from_the_mail() -> None:
    from email import message_from_bytes, policy

    from interdit.notify.channels.email import email_message
    from interdit.notify.render import Message

    notice = _two_units()
    # folded at 78 columns by default, the space between "Échéance" and "dépassée" (two encoded words) was lost
    subject = (f"Overdue: 11 prohibited apps are still on devices of /TBS / Échéance dépassée{NBSP}: 11 applications "
               "interdites sont toujours sur des appareils de /TBS")
    message = Message(subject, "Bonjour,\n")
    read = message_from_bytes(email_message(notice, message, "sec@example.org").as_bytes(), policy=policy.default)
    assert str(read["Subject"]) == subject
    assert read.get_content() == message.body
