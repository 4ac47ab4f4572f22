"""AndroidManifest.xml: identity, permissions, application flags and components, from the AXML tree.

The parser is our own (`axml.py`) rather than androguard's `AXMLPrinter`: measured on the corpus, parsing a
manifest here takes well under a millisecond, while androguard adds ~0.17 s of import time and
~0.1 s per large manifest with its default logging, keeps no bound on string-pool size or element count, and
reads attributes by name where Android reads them by resource id. See docs/analysis.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from interdit.analysis.axml import Document, Element, Value, parse_axml
from interdit.analysis.report import DEFAULT_LIMITS, Component, Limits, Problem

COMPONENT_TAGS = ("activity", "activity-alias", "service", "receiver", "provider")


@dataclass(slots=True)
class Manifest:
    package: str | None = None
    version_code: int | None = None
    version_name: str | None = None
    min_sdk: int | None = None
    target_sdk: int | None = None
    max_sdk: int | None = None
    shared_user_id: str | None = None
    uses_permissions: list[tuple[str, int | None, bool, int]] = field(default_factory=list)  # name, max, sdk23, line
    declared_permissions: list[tuple[str, str, int]] = field(default_factory=list)  # name, protection, line
    application: dict[str, str] = field(default_factory=dict)
    application_line: int = 0
    components: list[Component] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    parsed: bool = False

    def flag(self, name: str) -> bool | None:
        text = self.application.get(name)
        return None if text is None else text == "true"


def _text(attrs: dict[str, Value], key: str) -> str | None:
    v = attrs.get(key)
    return None if v is None else v.text


def _int(attrs: dict[str, Value], key: str) -> int | None:
    v = attrs.get(key)
    return None if v is None else v.as_int


def _bool(attrs: dict[str, Value], key: str) -> bool | None:
    v = attrs.get(key)
    return None if v is None else v.as_bool


def _qualify(package: str | None, name: str) -> str:
    if package and name.startswith("."):
        return package + name
    if package and name and "." not in name:
        return f"{package}.{name}"
    return name


def parse_manifest(buf: bytes, limits: Limits = DEFAULT_LIMITS, where: str = "AndroidManifest.xml") -> Manifest:
    doc = parse_axml(buf, limits, where)
    man = Manifest(problems=list(doc.problems))
    root = doc.root()
    if root is None:
        return man
    if root.tag != "manifest":
        man.problems.append(Problem("manifest.bad-root", "high", f"root element is <{root.tag}>", where))
        return man
    man.parsed = True
    man.package = _text(root.attrs, "package")
    man.version_code = _int(root.attrs, "versionCode")
    man.version_name = _text(root.attrs, "versionName")
    man.shared_user_id = _text(root.attrs, "sharedUserId")
    sdk = doc.children(0, "uses-sdk")
    if sdk:
        attrs = sdk[0][1].attrs
        man.min_sdk = _int(attrs, "minSdkVersion")
        man.target_sdk = _int(attrs, "targetSdkVersion")
        man.max_sdk = _int(attrs, "maxSdkVersion")
    if man.min_sdk is None:
        man.min_sdk = 1  # Android's default when uses-sdk or minSdkVersion is absent
    if man.target_sdk is None:
        man.target_sdk = man.min_sdk
    for _, el in doc.children(0):
        if el.tag in ("uses-permission", "uses-permission-sdk-23", "uses-permission-sdk-m"):
            name = _text(el.attrs, "name")
            if name:
                man.uses_permissions.append((name, _int(el.attrs, "maxSdkVersion"), el.tag != "uses-permission",
                                             el.line))
        elif el.tag == "permission":
            name = _text(el.attrs, "name")
            if name:
                man.declared_permissions.append((name, _protection(el.attrs.get("protectionLevel")), el.line))
    apps = doc.children(0, "application")
    if len(apps) > 1:
        man.problems.append(Problem("manifest.multiple-applications", "high",
                                    f"{len(apps)} <application> elements; Android reads the first", where))
    if apps:
        index, app = apps[0]
        man.application_line = app.line
        man.application = {k: v.text for k, v in app.attrs.items()}
        for cidx, comp in doc.children(index):
            if comp.tag in COMPONENT_TAGS:
                man.components.append(_component(doc, cidx, comp, man))
    return man


_LEVELS = {0: "normal", 1: "dangerous", 2: "signature", 3: "signatureOrSystem"}


def _protection(value: Value | None) -> str:
    if value is None:
        return "normal"
    if value.kind in (0x10, 0x11):
        return _LEVELS.get(value.data & 0xF, "signature") + ("|privileged" if value.data & 0x10 else "")
    return value.text or "normal"


def _component(doc: Document, idx: int, el: Element, man: Manifest) -> Component:
    filters: list[tuple[str, ...]] = []
    for fidx, _ in doc.children(idx, "intent-filter"):
        filters.append(tuple(_text(a.attrs, "name") or "" for _, a in doc.children(fidx, "action")))
    exported = _bool(el.attrs, "exported")
    if exported is not None:
        effective = exported
    elif el.tag == "provider":
        effective = (man.target_sdk or 1) < 17
    else:
        effective = bool(filters)
    permission = _text(el.attrs, "permission")
    if el.tag == "provider" and permission is None:
        read, write = _text(el.attrs, "readPermission"), _text(el.attrs, "writePermission")
        permission = read if read and read == write else permission
    affinity = _text(el.attrs, "taskAffinity")
    return Component(
        kind=el.tag,
        name=_qualify(man.package, _text(el.attrs, "name") or ""),
        exported=exported,
        effective_exported=effective,
        permission=permission,
        intent_filters=tuple(filters),
        task_affinity=affinity if affinity is not None else None,
        launch_mode=_text(el.attrs, "launchMode"),
        line=el.line,
    )
