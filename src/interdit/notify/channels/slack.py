"""Slack: a message posted to an incoming webhook (https://hooks.slack.com/services/...).

    - type: slack
      url_env: INTERDIT_SLACK_URL
      kinds: [escalation, closing]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from interdit.notify.channels import Channel, channels
from interdit.notify.channels._http import post_json, webhook_url
from interdit.notify.config import ChannelConfig
from interdit.notify.plan import Notice
from interdit.notify.render import Message


def _plain(text: str) -> str:
    """Slack's mrkdwn reads & < > as markup: they are escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(notice: Notice, message: Message) -> dict[str, Any]:
    return {
        "text": _plain(message.subject),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": message.subject[:150]}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _plain(
                f"To {', '.join(notice.recipients)} · {notice.key}")}]},
            {"type": "section", "text": {"type": "mrkdwn", "text": _plain(message.body)[:3000]}},
        ],
    }


@channels.register("slack")
class SlackChannel(Channel):

    def __init__(self, config: ChannelConfig, url: str) -> None:
        super().__init__(config)
        self.url = url

    @classmethod
    def from_config(cls, config: ChannelConfig, environ: Mapping[str, str]) -> SlackChannel:
        return cls(config, webhook_url(config, environ))

    def send(self, notice: Notice, message: Message) -> None:
        post_json(self.url, slack_message(notice, message), what="Slack webhook")
