"""A generic webhook: the notice as JSON, signed with HMAC-SHA256 so the receiver knows it comes from interdit.

    - type: webhook
      url: https://tickets.example.org/hooks/interdit
      secret_env: INTERDIT_WEBHOOK_SECRET   # a long random secret shared with the receiver

Each request carries:
    X-Interdit-Timestamp: 1765140000                  (Unix time of the request)
    X-Interdit-Signature: sha256=<hex>                (HMAC-SHA256 of "<timestamp>." + the body's bytes)
    X-Interdit-Notice: F-0123456789abcdef/first       (the notice's key: the same for a retried delivery)

The receiver computes the HMAC over the same bytes with the shared secret, compares in constant time, and
refuses a timestamp more than five minutes old (a replayed request).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping

from interdit.notify.channels import Channel, channels, option, payload
from interdit.notify.channels._http import post_json, webhook_url
from interdit.notify.config import ChannelConfig
from interdit.notify.plan import Notice
from interdit.notify.render import Message


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str, *, now: float | None = None,
           tolerance: float = 300) -> bool:
    """What a receiver does (in Python): the signature matches and the timestamp is recent."""
    fresh = abs((time.time() if now is None else now) - float(timestamp)) <= tolerance
    return fresh and hmac.compare_digest(signature(secret, timestamp, body), header)


@channels.register("webhook")
class WebhookChannel(Channel):

    def __init__(self, config: ChannelConfig, url: str, secret: str, clock: Callable[[], float] = time.time) -> None:
        super().__init__(config)
        self.url, self.secret, self.clock = url, secret, clock

    @classmethod
    def from_config(cls, config: ChannelConfig, environ: Mapping[str, str]) -> WebhookChannel:
        return cls(config, webhook_url(config, environ), str(option(config, environ, "secret")))

    def send(self, notice: Notice, message: Message) -> None:
        body = payload(notice, message)
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        stamp = str(int(self.clock()))
        headers = {"X-Interdit-Timestamp": stamp, "X-Interdit-Signature": signature(self.secret, stamp, data),
                   "X-Interdit-Notice": notice.key}
        post_json(self.url, data, headers=headers, what="webhook")
