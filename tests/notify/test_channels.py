"""The channels on their own: a folder of .eml files, and an SMTP server that would take a password in clear."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from notify_receivers import _free_port

from interdit.model import AppId, Device, Finding, FindingKind, FindingState, Management, Ownership, Platform
from interdit.notify import ChannelConfig, Notice, NoticeKind, Templates
from interdit.notify.channels import DeliveryError, make_channel

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FINDING = Finding("F-0123456789abcdef", FindingKind.INSTALLED, FindingState.VIOLATION, "mdm", "p1", "r", "tiktok",
                  None, NOW, NOW, date(2026, 3, 15), app=AppId(Platform.ANDROID, "com.zhiliaoapp.musically"))
DEVICE = Device("mdm", "p1", Platform.ANDROID, Ownership.CORPORATE, Management.FULLY_MANAGED, NOW,
                user="julie@example.org", name="Pixel de Julie")
NOTICE = Notice(f"{FINDING.id}/first", NoticeKind.FIRST, FINDING, DEVICE, ("julie@example.org",), "holder", "fr-en")


def test_the_folder_channel_writes_an_email_any_mail_program_opens(tmp_path: Path) -> None:
    message = Templates().render(NOTICE, organisation="Ministère des Exemples", exception_contact="",
                                 family_names={"tiktok": "TikTok"})
    channel = make_channel(ChannelConfig("files", "folder", options={"path": "out"}, base=tmp_path), {})
    with channel:
        channel.send(NOTICE, message)
    [written] = (tmp_path / "out").iterdir()
    assert written.name == "F-0123456789abcdef.first.eml"
    mail = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert mail["To"] == "julie@example.org" and mail["X-Interdit-Notice"] == NOTICE.key
    assert mail["Subject"] == message.subject and mail["Content-Language"] == "fr-CA, en-CA"
    body = mail.get_content()  # type: ignore[attr-defined]
    assert body.startswith("(English follows)") and "Hello," in body
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    channel = make_channel(ChannelConfig("files", "folder", options={"path": str(blocked)}), {})
    with pytest.raises(DeliveryError) as info:
        channel.send(NOTICE, message)
    assert str(blocked) in str(info.value)


class _Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def test_a_server_without_starttls_is_refused_before_the_password_is_sent(tmp_path: Path) -> None:
    sink = _Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, auth_require_tls=False)
    controller.start()
    try:
        config = ChannelConfig("email", "email", options={"host": "127.0.0.1", "port": port, "username": "u",
                                                          "sender": "security@example.org"})
        channel = make_channel(config, {"INTERDIT_SMTP_PASSWORD": "secret"})
        message = Templates().render(NOTICE, organisation="X", exception_contact="")
        with channel, pytest.raises(DeliveryError) as info:
            channel.send(NOTICE, message)
    finally:
        controller.stop()
    assert "does not offer STARTTLS" in str(info.value) and sink.count == 0


def test_channel_settings_say_what_is_missing() -> None:
    with pytest.raises(Exception) as info:
        make_channel(ChannelConfig("email", "email", options={"host": "smtp.example.org", "username": "u",
                                                              "password_env": "NOPE", "sender": "a@example.org"},
                                   where="notify.yaml:4"), {})
    assert "NOPE" in str(info.value) and "notify.yaml:4" in str(info.value)
    with pytest.raises(Exception) as info:
        make_channel(ChannelConfig("hook", "webhook", options={"url": "https://h.example.org/x"}), {})
    assert "secret" in str(info.value)
    with pytest.raises(Exception) as info:
        make_channel(ChannelConfig("pigeon", "pigeon", where="notify.yaml:9"), {})
    assert "notify.yaml:9" in str(info.value) and "email" in str(info.value)
