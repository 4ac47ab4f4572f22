"""Posting JSON to a webhook, for the Teams, Slack and generic channels."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from interdit.errors import ConfigError
from interdit.notify.channels import DeliveryError, option
from interdit.notify.config import ChannelConfig


def webhook_url(config: ChannelConfig, environ: Mapping[str, str]) -> str:
    url = str(option(config, environ, "url"))
    if not url.startswith(("https://", "http://")):
        raise ConfigError(f"the {config.type} channel's url is not a web address", where=config.where or None,
                          fix="write url_env: NAME, with NAME holding https://...")
    return url


def post_json(url: str, body: Any, *, headers: Mapping[str, str] | None = None, timeout: float = 30,
              what: str = "webhook") -> bytes:
    """POST `body` as JSON (or bytes already encoded, as signed); a refusal or no answer is a DeliveryError."""
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    send_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    host = httpx.URL(url).host
    try:
        response = httpx.post(url, content=data, headers=send_headers, timeout=timeout)
    except httpx.HTTPError as e:
        raise DeliveryError(f"cannot reach the {what} ({e})", where=host,
                            fix="check the URL and that this host may reach it") from None
    if response.status_code >= 300:
        raise DeliveryError(f"the {what} answered {response.status_code} ({response.text[:200]!r})", where=host,
                            fix="check the URL (a webhook that was removed answers 404) and its secret")
    return data
