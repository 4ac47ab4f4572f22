"""Live connectors: an MDM API read as a source, declared whole by its class.

A live connector is one class that registers itself and says everything the rest of interdit needs to know:

    @connectors.register()
    class Echo(LiveConnector):
        name = "echo"                                   # the type: `interdit sources add NAME --type echo`
        settings = (Setting("base_url", "the server URL", required=True, kind="url"),
                    Setting("space", "the device space", default="1", kind="number"))
        pushes = "apple"                                # optional: the enforcement target it can push

        def configure(self, config): ...                # read settings, return how requests authenticate
        def check(self): ...                            # one small request, said in a sentence
        def records(self): ...                          # devices, apps and rejections
        def push(self, payload, mdm_object, planner): ...   # only with `pushes`

`interdit sources add` builds and checks its settings from the declaration, `sources test` and `sources sync`
refuse an unknown or ill-typed one before anything is requested, `interdit formats` lists them, a setting
marked `secret` is never shown or recorded in the audit trail, and `interdit enforce TARGET --push SOURCE`
reaches every connector whose `pushes` names the target. The words: `name` is the component (the connector's
type), `source` the configured source records carry.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import ModuleType
from typing import Any, ClassVar, Literal, NamedTuple

import httpx

from interdit.errors import ConfigError
from interdit.inventory._http import ApiClient, Limits, TokenProvider
from interdit.inventory.base import Record, Tally
from interdit.registry import Registry

Kind = Literal["text", "url", "number", "flag"]
FLAG_VALUES = ("yes", "no", "true", "false", "1", "0")


@dataclass(frozen=True)
class Setting:
    """One setting a connector reads from its source's entry in the sources file."""

    name: str  # as written in the sources file and after --setting (base_url, tenant_code, ...)
    hint: str  # what to give, for a person: "the Entra tenant id or domain"
    default: str | None = None  # what the connector uses when the setting is left out
    required: bool = False  # the source cannot be read without it
    secret: bool = False  # never shown or recorded (an API key kept in the sources file)
    allowed: tuple[str, ...] = ()  # the only values accepted, when there is a fixed list
    kind: Kind = "text"  # text, url (https://...), number (seconds, ids) or flag (yes/no)

    def describe(self) -> str:
        """What a value looks like, for a person: `export|per-device|detected`, `number`, `yes|no`."""
        if self.allowed:
            return "|".join(self.allowed)
        return "yes|no" if self.kind == "flag" else self.kind

    def problem(self, value: str) -> str | None:
        """Why `value` cannot be this setting's, or None."""
        if self.allowed and value not in self.allowed:
            return f"{self.name} {value!r} is not one of {', '.join(self.allowed)}"
        if self.kind == "number":
            try:
                float(value)
            except ValueError:
                return f"{self.name} {value!r} is not a number"
        if self.kind == "flag" and value.lower() not in FLAG_VALUES:
            return f"{self.name} {value!r} is not yes or no"
        if self.kind == "url" and not _http_url(value):
            return f"{self.name} {value!r} is not an http(s) URL"
        return None


def _http_url(value: str) -> bool:
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, ValueError):
        return False
    return url.scheme in ("http", "https") and bool(url.host)


def setting_fix(connector: str, source: str, setting: Setting) -> str:
    example = setting.allowed[0] if setting.allowed else (setting.default or "...")
    return (f"interdit sources add {source} --type {connector} --setting {setting.name}={example}  "
            f"({setting.hint})")


def check_settings(connector: type[LiveConnector], source: str, settings: Mapping[str, str], *,
                   where: str | None = None, complete: bool = True) -> None:
    """Refuse a setting `connector` does not declare, a value it does not take, and (with `complete`) a
    required one left out: the error names the source, the setting and the fix."""
    place = where or f"source {source}"
    declared = {s.name: s for s in connector.settings}
    for key, value in settings.items():
        if key not in declared:
            close = difflib.get_close_matches(key, declared, n=1)
            known = ", ".join(declared) or "none"
            raise ConfigError(f"source {source!r} ({connector.name}) has a setting {key!r} it does not read",
                              where=place, fix=(f"did you mean {close[0]!r}? " if close else "")
                              + f"the {connector.name} settings are: {known} (interdit formats lists them)")
        problem = declared[key].problem(value)
        if problem:
            raise ConfigError(f"source {source!r} ({connector.name}): {problem}", where=place,
                              fix=setting_fix(connector.name, source, declared[key]))
    if complete:
        for setting in connector.settings:
            if setting.required and not settings.get(setting.name):
                raise ConfigError(f"source {source!r} ({connector.name}) has no {setting.name!r}", where=place,
                                  fix=setting_fix(connector.name, source, setting))


@dataclass(frozen=True)
class ConnectorConfig:
    """One configured source, as a live connector sees it (built by `interdit.sources`)."""

    source: str  # the source name records carry
    type: str  # the connector's registered name
    settings: Mapping[str, str] = field(default_factory=dict)  # tenant, base_url, client_id, ...
    secret: str | None = field(default=None, repr=False)  # client secret, password or service-account JSON
    limits: Limits = field(default_factory=Limits)
    declared: tuple[Setting, ...] = ()  # the connector's settings (set by `LiveConnector`)

    def _setting(self, key: str) -> Setting:
        for s in self.declared:
            if s.name == key:
                return s
        return Setting(key, key.replace("_", " "))

    def get(self, key: str) -> str | None:
        """The setting's value, else its declared default."""
        return self.settings.get(key) or self._setting(key).default

    def need(self, key: str, hint: str | None = None) -> str:
        """The setting's value; a clear error naming the fix when it is not set."""
        value = self.get(key)
        if not value:
            setting = self._setting(key)
            if hint is not None:
                setting = replace(setting, hint=hint)
            raise ConfigError(f"source {self.source!r} ({self.type}) has no {key!r}", where=f"source {self.source}",
                              fix=f"add it: {setting_fix(self.type, self.source, setting)}")
        return value

    def flag(self, key: str) -> bool:
        return (self.get(key) or "no").lower() in ("yes", "true", "1")

    def need_secret(self) -> str:
        if not self.secret:
            raise ConfigError(f"source {self.source!r} has no credentials",
                              where=f"source {self.source}",
                              fix="give --secret-file PATH (a file readable only by you, mode 0600) or set "
                                  f"INTERDIT_SECRET_{self.source.upper().replace('-', '_')} in the environment")
        return self.secret


class Push(NamedTuple):
    """What a connector's `push` found: the MDM object, the plan (a line per change), and what sends it."""

    object: str
    plan: list[str]
    send: Callable[[], list[Any]]  # sends the changes; returns what was sent (for the audit trail)


class LiveConnector:
    """Reads one full snapshot of a source from its API; yields the same records as its file reader.

    What every live connector shares: the registry's constructor `(config, client, *, now, sleep)`, the settings
    checked against the declaration, a fresh tally, and one `ApiClient` for every request. A subclass reads its
    settings and secret in `configure`, which returns how its requests authenticate, and defines `check()` and
    `records()`; with `pushes`, also `push()`.
    """

    name: ClassVar[str]  # the connector type, its registered name
    settings: ClassVar[tuple[Setting, ...]] = ()
    incremental: ClassVar[bool] = False  # whether the API can give only what changed (see docs/connectors.md)
    pushes: ClassVar[str | None] = None  # the enforcement target whose payloads `push` sends; None: cannot push
    push_needs: ClassVar[str | None] = None  # what --mdm-object must name when a push cannot do without it

    def __init__(self, config: ConnectorConfig, client: httpx.Client, *, now: datetime,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        config = replace(config, declared=type(self).settings)
        check_settings(type(self), config.source, config.settings, complete=False)
        self.source = config.source  # the source name records carry
        self.now = now
        self.sleep = sleep
        self.tally = Tally()
        auth = self.configure(config)
        self.api = ApiClient(client, source=config.source, limits=config.limits, auth=auth, sleep=sleep)

    def configure(self, config: ConnectorConfig) -> TokenProvider | None:
        """Read the settings and the secret (`config.need`, `config.get`, `config.need_secret`) into attributes;
        return the token provider requests carry, or None when the connector adds its own headers."""
        raise NotImplementedError

    def check(self) -> str:
        """Connectivity: fetch a token and make one small request; say what was found."""
        raise NotImplementedError

    def records(self) -> Iterator[Record]:
        raise NotImplementedError

    def push(self, payload: Any, mdm_object: str | None, planner: ModuleType) -> Push:
        """Find the MDM object the payload changes and plan only what is missing (dry run); nothing is sent
        until `Push.send()` is called. `planner` is the module of the enforcement target `pushes` names: its
        pure `plan` functions compare what the MDM holds with the payload. A ValueError means an answer the
        plan cannot read."""
        raise NotImplementedError


connectors: Registry[type[LiveConnector]] = Registry("connector", builtins="interdit.inventory")
"""Live connectors by type name (`cls.name`); each class is built as `cls(config, client, now=now)`."""


def pushers() -> dict[str, type[LiveConnector]]:
    """Every enforcement target a connector can push, with the connector type (`interdit enforce --push`)."""
    return {cls.pushes: cls for _, cls in connectors.items() if cls.pushes}
