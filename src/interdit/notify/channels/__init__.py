"""Where notices go. Each channel is one module that registers itself in `channels` by its type:

    @channels.register("slack")
    class SlackChannel(Channel): ...

A channel is made from its entry in the settings (`from_config`), opened once per run (`with channel:`) and
sends one notice at a time (`send`); a failure raises `DeliveryError` with what went wrong and how to fix it.
Secrets come from the environment, named in the settings (`password_env`, `url_env`, `secret_env`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from interdit.errors import ConfigError, InterditError
from interdit.notify.config import ChannelConfig
from interdit.notify.plan import Notice
from interdit.notify.render import Message
from interdit.registry import Registry


class DeliveryError(InterditError):
    """A notice could not be delivered by one channel (the server refused, could not be reached, ...)."""


class Channel:
    """A way to deliver notices. Subclasses implement `send`."""


    def __init__(self, config: ChannelConfig) -> None:
        self.config = config
        self.name = config.name

    @classmethod
    def from_config(cls, config: ChannelConfig, environ: Mapping[str, str]) -> Channel:
        return cls(config)

    def carries(self, notice: Notice) -> bool:
        return notice.kind.value in self.config.kinds

    def send(self, notice: Notice, message: Message) -> None:
        raise NotImplementedError

    def __enter__(self) -> Channel:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None


channels: Registry[type[Channel]] = Registry("channel", builtins="interdit.notify.channels")
# the registry loads its modules on first use, and is not safe for two threads doing it at once (two workers
# of a scheduler): the first one loads them all while the other waits
_LOADING = threading.Lock()


def make_channel(config: ChannelConfig, environ: Mapping[str, str]) -> Channel:
    try:
        with _LOADING:
            kind = channels.get(config.type)
    except ConfigError as e:
        raise ConfigError(e.message, where=config.where or None, fix=e.fix) from None
    return kind.from_config(config, environ)


def option(config: ChannelConfig, environ: Mapping[str, str], key: str, *, env: str | None = None,
           required: bool = True, default: Any = None) -> Any:
    """A channel's option: written in the settings, or in the environment variable `<key>_env` names, or in
    the environment variable `env` (the default one); a required option found nowhere is a clear error."""
    opts = config.options
    if key in opts and opts[key] not in (None, ""):
        return opts[key]
    named = opts.get(f"{key}_env")
    if named:
        value = environ.get(str(named))
        if not value:
            raise ConfigError(f"the environment variable {named} (named by {key}_env) is not set",
                              where=config.where or None, fix=f"export {named}=... before running interdit")
        return value
    if env and environ.get(env):
        return environ[env]
    if required:
        hint = f" or set {env}" if env else ""
        raise ConfigError(f"the {config.type} channel {config.name!r} has no {key}", where=config.where or None,
                          fix=f"add {key}: (or {key}_env: NAME_OF_A_VARIABLE){hint}")
    return default


def payload(notice: Notice, message: Message) -> dict[str, Any]:
    """The message as JSON: what the generic webhook posts and what `--format json` shows. `finding` and
    `device` are its first finding's; `items` holds every finding the message is about, with its own key."""
    return {
        "key": notice.key, "kind": notice.kind.value, "audience": notice.audience, "lang": notice.lang,
        "recipients": list(notice.recipients), "subject": message.subject, "body": message.body,
        **_about(notice), "keys": list(notice.keys),
        "items": [{"key": n.key, "left": n.left, **_about(n)} for n in notice.items],
    }


def _about(notice: Notice) -> dict[str, Any]:
    f, d = notice.finding, notice.device
    return {
        "finding": {"id": f.id, "state": f.state.value, "rule": f.rule, "family": f.family,
                    "directive": f.directive, "app": str(f.app) if f.app else None,
                    "deadline": f.deadline.isoformat() if f.deadline else None, "org_unit": f.org_unit},
        "device": {"source": f.source, "id": f.device_id, "name": d.name if d else None,
                   "owner": d.user if d else None, "model": d.model if d else None,
                   "os_version": d.os_version if d else None},
    }
