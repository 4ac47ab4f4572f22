"""Microsoft Teams: an Adaptive Card posted to a channel's webhook (a Teams workflow "when a webhook request is
received", or an incoming webhook).

    - type: teams
      url_env: INTERDIT_TEAMS_URL     # the webhook's URL is a secret: keep it in the environment
      kinds: [escalation]             # e.g. only the escalations, for the security team's channel
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from interdit.notify.channels import Channel, channels
from interdit.notify.channels._http import post_json, webhook_url
from interdit.notify.config import ChannelConfig
from interdit.notify.plan import Notice
from interdit.notify.render import Message


def card(notice: Notice, message: Message) -> dict[str, Any]:
    facts = [{"title": "To", "value": ", ".join(notice.recipients)},
             {"title": "Notice", "value": notice.key}]
    content = {
        "type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "version": "1.4",
        "body": [{"type": "TextBlock", "text": message.subject, "weight": "Bolder", "size": "Medium", "wrap": True},
                 {"type": "FactSet", "facts": facts},
                 {"type": "TextBlock", "text": message.body, "wrap": True}],
    }
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": content}]}


@channels.register("teams")
class TeamsChannel(Channel):

    def __init__(self, config: ChannelConfig, url: str) -> None:
        super().__init__(config)
        self.url = url

    @classmethod
    def from_config(cls, config: ChannelConfig, environ: Mapping[str, str]) -> TeamsChannel:
        return cls(config, webhook_url(config, environ))

    def send(self, notice: Notice, message: Message) -> None:
        post_json(self.url, card(notice, message), what="Teams webhook")
