"""Notices as people read them: Jinja2 templates, one per kind and language, that the organisation may override.

A template is a text file named `<kind>.<lang>.txt` (`first.fr.txt`). Its first line is `Subject: ...`, then a
blank line, then the body. The organisation's folder (`templates:` in the settings) is searched first, then the
built-in templates; templates run in Jinja2's sandbox, and a name they use that does not exist is an error, not
an empty string. A bilingual notice (`en-fr`, `fr-en`) puts both languages in one message, the first language
first, as Canada's federal institutions do. French text follows French typography: a no-break space before
: and », after «, and a narrow one before ; ! ?, so a line never begins with the mark.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from interdit.errors import ConfigError
from interdit.i18n import typeset_fr
from interdit.notify.plan import Notice

_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
}
_PLATFORMS = {"en": {"ios": "iOS", "ipados": "iPadOS", "android": "Android", "macos": "macOS",
                     "windows": "Windows"},
              "fr": {"ios": "iOS", "ipados": "iPadOS", "android": "Android", "macos": "macOS",
                     "windows": "Windows"}}
_BILINGUAL_NOTE = {"en": "(Le français suit)", "fr": "(English follows)"}
_SEPARATOR = "\n\n" + "—" * 40 + "\n\n"


def format_date(d: date | None, lang: str) -> str:
    if d is None:
        return ""
    if lang == "fr":
        return f"{'1er' if d.day == 1 else d.day} {_MONTHS['fr'][d.month - 1]} {d.year}"
    return f"{_MONTHS['en'][d.month - 1]} {d.day}, {d.year}"


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    body: str


class Templates:
    """The notice templates: the organisation's folder first, then the built-in ones."""

    def __init__(self, folder: Path | None = None) -> None:
        if folder is not None and not folder.is_dir():
            raise ConfigError(f"the templates folder {folder} does not exist", where=str(folder),
                              fix="create it with your own <kind>.<lang>.txt files, or remove 'templates:'")
        loaders: list[Any] = [FileSystemLoader(str(folder))] if folder is not None else []
        loaders.append(PackageLoader("interdit.notify", "templates"))
        self.env = SandboxedEnvironment(loader=ChoiceLoader(loaders), undefined=StrictUndefined, autoescape=False,
                                        keep_trailing_newline=True)

    def render(self, notice: Notice, *, organisation: str, exception_contact: str,
               family_names: Mapping[str, str] | None = None) -> Message:
        langs = notice.lang.split("-")
        names = family_names or {}
        parts = [self._one(notice, lang, organisation, exception_contact, names) for lang in langs]
        if len(parts) == 1:
            return parts[0]
        subject = " / ".join(p.subject for p in parts)
        body = _SEPARATOR.join(f"{_BILINGUAL_NOTE[lang]}\n\n{p.body}" if i == 0 else p.body
                               for i, (lang, p) in enumerate(zip(langs, parts, strict=True)))
        return Message(subject, body)

    def _one(self, notice: Notice, lang: str, organisation: str, exception_contact: str,
             names: Mapping[str, str]) -> Message:
        name = f"{notice.kind.value}.{lang}.txt"
        try:
            values = context(notice, lang, organisation, exception_contact, names)
            text = self.env.get_template(name).render(**values)
        except TemplateError as e:
            where = getattr(e, "filename", None) or name
            line = getattr(e, "lineno", None)
            raise ConfigError(f"the notice template {name} cannot be rendered ({e.message or e})",
                              where=f"{where}:{line}" if line else where,
                              fix="correct the template (the names it may use are listed in "
                                  "docs/notifications.md)") from None
        head, _, body = text.partition("\n")
        if not head.startswith("Subject:"):
            raise ConfigError(f"the notice template {name} does not begin with 'Subject: '", where=name,
                              fix="make its first line 'Subject: ...', then a blank line, then the body")
        subject, body = head.removeprefix("Subject:").strip(), body.strip("\n") + "\n"
        if lang == "fr":
            subject, body = typeset_fr(subject), typeset_fr(body)
        return Message(subject, body)


def copy_templates(folder: Path) -> list[Path]:
    """Copy the built-in templates into `folder` to edit them; a file already there is kept. Returns those written."""
    from importlib.resources import files

    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for item in sorted(files("interdit.notify").joinpath("templates").iterdir(), key=lambda i: i.name):
        target = folder / item.name
        if item.name.endswith(".txt") and not target.exists():
            target.write_text(item.read_text("utf-8"), "utf-8")
            written.append(target)
    return written


def context(notice: Notice, lang: str, organisation: str, exception_contact: str,
            family_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What a template may use (documented in docs/notifications.md): the message's own values, those of its
    first finding (`org_unit`: the unit above all of theirs), and `items`, one entry per finding the message is
    about (with the same per-finding names)."""
    items = [_item(n, lang, family_names or {}) for n in notice.items]
    devices = {(i["source"], i["device_id"]) for i in items}
    deadlines = [n.finding.deadline for n in notice.items if n.finding.deadline is not None]
    units = {i["org_unit"] for i in items}
    return {
        **items[0],
        "org_unit": _common_unit(units) if len(units) > 1 else items[0]["org_unit"],
        "organisation": organisation,
        "kind": notice.kind.value,
        "audience": notice.audience,
        "holder_told": notice.holder_told,
        "days": notice.days,
        "left": notice.left,
        "items": items,
        "count": len(items),
        "device_count": len(devices),
        "soonest": format_date(min(deadlines), lang) if deadlines else "",  # the nearest deadline of the items
        "exception_contact": exception_contact,
    }


def _common_unit(units: set[str]) -> str:
    """The org unit above all of `units` ("/TBS" for /TBS/Finance and /TBS/Communications); "" when none."""
    paths = [[p for p in u.split("/") if p] for u in units]
    common: list[str] = []
    for parts in zip(*paths, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "/" + "/".join(common) if common else ""


def _item(notice: Notice, lang: str, family_names: Mapping[str, str]) -> dict[str, Any]:
    f, d = notice.finding, notice.device
    identifier = f.app.identifier if f.app else ""
    family_name = family_names.get(f.family or "", "")
    platform = (f.app.platform.value if f.app else (d.platform.value if d else "")) or ""
    return {
        "key": notice.key,
        "holder_told": notice.holder_told,
        "left": notice.left,
        "finding_id": f.id,
        "finding_kind": f.kind.value,
        "rule": f.rule,
        "directive": f.directive or "",
        "family": f.family or "",
        "app": family_name or identifier or (f.family or ""),
        "app_id": identifier,
        "platform": platform,
        "platform_name": _PLATFORMS[lang].get(platform, platform),
        "deadline": format_date(f.deadline, lang),
        "deadline_iso": f.deadline.isoformat() if f.deadline else "",
        "days": notice.days,
        "resolved": format_date(f.resolved_at.date() if f.resolved_at else None, lang),
        "device_name": (d.name if d else None) or f.device_id,
        "device_id": f.device_id,
        "source": f.source,
        "owner": (d.user if d else None) or "",
        "model": (d.model if d else None) or "",
        "os_version": (d.os_version if d else None) or "",
        "org_unit": f.org_unit or (d.org_unit if d else None) or "",
    }
