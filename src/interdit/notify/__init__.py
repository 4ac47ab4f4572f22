"""Notifications: who is told what about a finding, and when (a pure plan), in which words (templates the
organisation may override), and through which channels (e-mail, Teams, Slack, a signed webhook).

The stage reads no database: `interdit.pipeline.notify` gives it the findings, their devices and the notices
already sent, sends what it plans and records each notice.
"""

from __future__ import annotations

from interdit.notify.config import (
    ChannelConfig,
    Contacts,
    NotifyConfig,
    OrgContact,
    Throttle,
    parse_config,
    parse_contacts,
    read_config,
    read_contacts,
)
from interdit.notify.plan import Notice, NoticeKind, Plan, Skip, plan_notices
from interdit.notify.render import Message, Templates, copy_templates

__all__ = ["ChannelConfig", "Contacts", "Message", "Notice", "NoticeKind", "NotifyConfig", "OrgContact", "Plan",
           "Skip", "Templates", "Throttle", "copy_templates", "parse_config", "parse_contacts", "plan_notices",
           "read_config", "read_contacts"]
