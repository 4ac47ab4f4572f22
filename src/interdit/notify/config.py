"""The notification settings (`notify.yaml`) and the contacts file (`contacts.yaml`), read and checked.

Every problem names the file and line and says how to fix it. Secrets never sit in these files: a channel names
the environment variable that holds its password, URL or signing secret (`password_env`, `url_env`,
`secret_env`), and the SMTP settings may come from the environment alone (`INTERDIT_SMTP_HOST`, ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from interdit.errors import ConfigError

LANGUAGES = ("en", "fr", "en-fr", "fr-en")  # en-fr: one bilingual message, English first
KINDS = ("first", "reminder", "escalation", "closing")
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")


def is_email(text: str | None) -> bool:
    return bool(text) and _EMAIL.match(text or "") is not None


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """One channel of the settings: its name (unique), type (`email`, `teams`, `slack`, `webhook`), the notice
    kinds it carries (all by default) and its own options, as written."""

    name: str
    type: str
    kinds: tuple[str, ...] = KINDS
    options: Mapping[str, Any] = field(default_factory=dict)
    where: str = ""
    base: Path = Path(".")  # the settings file's folder: relative paths in options are read from it


@dataclass(frozen=True, slots=True)
class Throttle:
    per_run: int = 500  # notices sent at most per run; the rest wait for the next run
    per_minute: int = 60  # notices sent at most per minute (0: no limit)


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    language: str = "en"
    reminders: tuple[int, ...] = (7, 1)  # days before the deadline, a reminder at each
    escalate_after_days: int = 0  # days after the deadline before the manager or contact hears of it
    exception_contact: str = ""  # who to ask for an exception (an address, a service desk)
    templates: Path | None = None  # the organisation's own templates, used before the built-in ones
    throttle: Throttle = field(default_factory=Throttle)
    channels: tuple[ChannelConfig, ...] = ()
    contacts: Path | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class OrgContact:
    emails: tuple[str, ...]
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class Contacts:
    """Who hears about an org unit's devices (its manager or contact), and e-mails for owners whose source gives
    none. `for_unit` takes the most specific unit that has contacts (a unit covers the units below it)."""

    units: Mapping[str, OrgContact] = field(default_factory=dict)
    default: OrgContact | None = None
    people: Mapping[str, str] = field(default_factory=dict)  # owner as the source writes it -> e-mail

    def for_unit(self, org_unit: str | None) -> OrgContact | None:
        path = (org_unit or "").rstrip("/")
        while path:
            if path in self.units:
                return self.units[path]
            path = path.rsplit("/", 1)[0] if "/" in path else ""
        return self.default

    def owner_email(self, owner: str | None) -> str | None:
        if not owner:
            return None
        mapped = self.people.get(owner) or self.people.get(owner.lower())
        if mapped:
            return mapped
        return owner if is_email(owner) else None


# -- reading ------------------------------------------------------------------------------------------------


def _load(text: str, name: str) -> Any:
    try:
        return YAML(typ="rt").load(text)
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        raise ConfigError(f"not valid YAML ({getattr(e, 'problem', None) or e})", where=where,
                          fix="correct the YAML syntax (indentation, a missing ':' or quote)") from None


def _at(node: Any, key: Any, name: str) -> str:
    if isinstance(node, CommentedMap | CommentedSeq):
        try:
            line = node.lc.key(key)[0] if isinstance(node, CommentedMap) else node.lc.item(key)[0]
            return f"{name}:{line + 1}"
        except (KeyError, IndexError, TypeError):
            return f"{name}:{node.lc.line + 1}"
    return name


def _mapping(node: Any, where: str, what: str) -> Mapping[Any, Any]:
    if node is None:
        return {}
    if not isinstance(node, Mapping):
        raise ConfigError(f"{what} must be a mapping (key: value lines)", where=where,
                          fix=f"write {what} as 'key: value' lines")
    return node


def _emails(value: Any, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple | CommentedSeq) or not items:
        raise ConfigError("contacts must be an e-mail address or a list of them", where=where,
                          fix="write contacts: [manager@example.org]")
    for item in items:
        if not is_email(str(item)):
            raise ConfigError(f"{item!r} is not an e-mail address", where=where,
                              fix="write an address such as manager@example.org")
    return tuple(str(i) for i in items)


def _lang(value: Any, where: str, allowed: tuple[str, ...] = LANGUAGES) -> str:
    if value not in allowed:
        raise ConfigError(f"unknown language {value!r}", where=where, fix="use one of: " + ", ".join(allowed))
    return str(value)


def _int(value: Any, where: str, what: str, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{what} must be a whole number of at least {low}, not {value!r}", where=where,
                          fix=f"write {what}: {max(low, 1)}")
    return int(value)


def _unit_contact(node: Any, where: str) -> OrgContact:
    if isinstance(node, str | list | CommentedSeq):
        return OrgContact(_emails(node, where))
    m = _mapping(node, where, "an org unit's entry")
    unknown = sorted(set(m) - {"contacts", "lang"}, key=str)
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} in an org unit's entry", where=where,
                          fix="use contacts: [...] and, optionally, lang: en|fr|en-fr|fr-en")
    lang = _lang(m["lang"], _at(m, "lang", where.split(":")[0])) if "lang" in m else None
    return OrgContact(_emails(m.get("contacts"), where), lang)


def parse_contacts(text: str, name: str = "contacts.yaml") -> Contacts:
    """The contacts file:

        default: {contacts: [securite@example.org], lang: fr}
        org_units:
          /Ministry/Finance: {contacts: [finance.manager@example.org], lang: fr}
          /Ministry/IT: it.manager@example.org
        people:
          jdoe: jane.doe@example.org
    """
    root = _mapping(_load(text, name), name, "the contacts file")
    unknown = sorted(set(root) - {"default", "org_units", "people"}, key=str)
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r}", where=_at(root, unknown[0], name),
                          fix="the contacts file has default:, org_units: and people:")
    default = _unit_contact(root["default"], _at(root, "default", name)) if root.get("default") else None
    units_node = _mapping(root.get("org_units"), _at(root, "org_units", name), "org_units")
    units = {str(k).rstrip("/") or "/": _unit_contact(v, _at(units_node, k, name)) for k, v in units_node.items()}
    people_node = _mapping(root.get("people"), _at(root, "people", name), "people")
    people: dict[str, str] = {}
    for owner, email in people_node.items():
        where = _at(people_node, owner, name)
        if not is_email(str(email)):
            raise ConfigError(f"{email!r} is not an e-mail address for {owner!r}", where=where,
                              fix=f"write {owner}: name@example.org")
        people[str(owner)] = str(email)
        people.setdefault(str(owner).lower(), str(email))
    return Contacts(units, default, people)


def parse_config(text: str, name: str = "notify.yaml", *, base: Path | None = None) -> NotifyConfig:
    """The notification settings (see docs/notifications.md); relative paths are read from `base`."""
    root = _mapping(_load(text, name), name, "the notification settings")
    known = {"language", "reminders", "escalate_after_days", "exception_contact", "templates", "throttle",
             "channels", "contacts"}
    unknown = sorted(set(root) - known, key=str)
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r}", where=_at(root, unknown[0], name),
                          fix="use one of: " + ", ".join(sorted(known)))
    folder = base or Path(".")
    language = _lang(root.get("language", "en"), _at(root, "language", name))
    reminders_node = root.get("reminders", [7, 1])
    if not isinstance(reminders_node, list | CommentedSeq):
        raise ConfigError("reminders must be a list of days before the deadline", where=_at(root, "reminders", name),
                          fix="write reminders: [7, 1]")
    reminders = tuple(sorted({_int(d, _at(root, "reminders", name), "a reminder", 1) for d in reminders_node},
                             reverse=True))
    escalate = _int(root.get("escalate_after_days", 0), _at(root, "escalate_after_days", name),
                    "escalate_after_days")
    throttle_node = _mapping(root.get("throttle"), _at(root, "throttle", name), "throttle")
    bad = sorted(set(throttle_node) - {"per_run", "per_minute"}, key=str)
    if bad:
        raise ConfigError(f"unknown throttle setting {bad[0]!r}", where=_at(throttle_node, bad[0], name),
                          fix="use per_run and per_minute")
    throttle = Throttle(_int(throttle_node.get("per_run", 500), _at(throttle_node, "per_run", name), "per_run", 1),
                        _int(throttle_node.get("per_minute", 60), _at(throttle_node, "per_minute", name),
                             "per_minute"))
    channels: list[ChannelConfig] = []
    channels_node = root.get("channels") or []
    if not isinstance(channels_node, list | CommentedSeq):
        raise ConfigError("channels must be a list", where=_at(root, "channels", name),
                          fix="write channels: followed by '- type: email' entries")
    for i, item in enumerate(channels_node):
        where = _at(channels_node, i, name)
        m = _mapping(item, where, "a channel")
        kind = m.get("type")
        if not isinstance(kind, str):
            raise ConfigError("a channel has no type", where=where, fix="add type: email, teams, slack or webhook")
        cname = str(m.get("name") or kind)
        if any(c.name == cname for c in channels):
            raise ConfigError(f"two channels are named {cname!r}", where=where,
                              fix="give each channel its own name: (e.g. name: teams-security)")
        kinds_node = m.get("kinds", list(KINDS))
        kinds = tuple(str(k) for k in (kinds_node if isinstance(kinds_node, list | CommentedSeq) else [kinds_node]))
        for k in kinds:
            if k not in KINDS:
                raise ConfigError(f"unknown notice kind {k!r}", where=where, fix="use any of: " + ", ".join(KINDS))
        options = {str(k): v for k, v in m.items() if k not in ("type", "name", "kinds")}
        channels.append(ChannelConfig(cname, kind, kinds, options, where, folder))
    templates = root.get("templates")
    contacts = root.get("contacts")
    return NotifyConfig(
        language=language, reminders=reminders, escalate_after_days=escalate,
        exception_contact=str(root.get("exception_contact") or ""),
        templates=(folder / str(templates)) if templates else None, throttle=throttle, channels=tuple(channels),
        contacts=(folder / str(contacts)) if contacts else None, path=name)


def read_config(path: Path) -> NotifyConfig:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no notification settings at {path}", where=str(path),
                          fix="write one (see docs/notifications.md), or point --config at it") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read the notification settings ({e})", where=str(path),
                          fix="check the file is UTF-8 text you may read") from None
    return parse_config(text, str(path), base=path.parent)


def read_contacts(path: Path) -> Contacts:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no contacts file at {path}", where=str(path),
                          fix="write one (see docs/notifications.md), or point --contacts at it") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read the contacts file ({e})", where=str(path),
                          fix="check the file is UTF-8 text you may read") from None
    return parse_contacts(text, str(path))
