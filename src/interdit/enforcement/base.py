"""The enforcement interface: one module per target (an MDM payload or a DNS/proxy configuration).

A target turns the policy and the catalogue into files a person or an API applies, with the caveats the
person must know printed beside them ("hides the app, does not remove it", "cannot cover subdomains").

    @targets.register
    class Unbound:
        name = "unbound"          # the registry key, written once
        kind = "dns"              # "dns": a resolver or proxy configuration; "mdm": an MDM payload
        summary = "Unbound local-zone configuration (always_nxdomain)"
        options = (Option("policy", "what a banned name gets", "nxdomain", "choice", ("nxdomain", "sinkhole")),)

        @checks_options
        def build(self, request: EnforcementRequest) -> Payload: ...

A target declares every `--option` it reads (`Option`: name, kind, default, allowed values, help), and
`checks_options` checks them in one place before the target runs: an unknown name is refused with the
closest declared one ("did you mean"), a value of the wrong kind is refused naming the option, the value and
what is expected, and an option the target did not read with the settings given is refused after it ran (it
does not apply: `sinkhole=` without `policy=sinkhole`). Targets read `request.options` as before: every
declared option with a default is there, checked and in its declared spelling.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, Protocol, TypeVar

from interdit import i18n
from interdit.errors import OptionError
from interdit.model import AppId, Catalogue, Policy
from interdit.registry import Registry


@dataclass(frozen=True, slots=True)
class EnforcementRequest:
    """What every target is given. `now` is injected so payloads are reproducible."""

    policy: Policy
    catalogue: Catalogue
    now: datetime
    families: tuple[str, ...]  # the family ids the policy prohibits (rules in force or announced)
    apps: tuple[AppId, ...]  # every exact identifier of those families, all platforms
    prefixes: tuple[AppId, ...]  # vendor prefixes (e.g. android:com.kaspersky)
    domains: tuple[str, ...]  # names to block with every subdomain, shared hosts already removed
    options: Mapping[str, str] = field(default_factory=dict)  # target-specific (--option key=value)
    lang: str = "en"  # the language of what a person reads: caveats, plan lines, option errors ("en" or "fr")

    def __post_init__(self) -> None:
        i18n.check_lang(self.lang)  # an unknown language is refused here, with its fix, not at the first caveat


@dataclass(frozen=True, slots=True)
class Payload:
    """Files to write (name -> content) and what the person applying them must know."""

    target: str
    files: Mapping[str, str | bytes]
    caveats: tuple[str, ...] = ()
    media_type: str = "text/plain"
    lang: str = "en"  # the language of the caveats (and of a push plan's lines): the request's


def say(lang: str, key: str, /, **values: object) -> str:
    """The enforcement message `enforce.<key>` in `lang`, its placeholders filled (docs/i18n.md)."""
    return i18n.say(lang, f"enforce.{key}", **values)


def count(lang: str, key: str, n: int, /, **values: object) -> str:
    """The plural message `enforce.<key>` in the form `n` needs, `{n}` written the language's way."""
    return i18n.plural(lang, f"enforce.{key}", n, **values)


Kind = Literal["text", "integer", "choice", "ip", "ipv4", "ipv6"]

_ADDRESSES = ("ip", "ipv4", "ipv6")  # kinds read as an IP address: enforce.expected.<kind> says what is expected


@dataclass(frozen=True, slots=True)
class Option:
    """One `--option NAME=VALUE` a target reads.

    `default` None means the target works one out (e.g. an RPZ serial from the policy date); `help` says what
    it does in one line. `kind` "choice" takes one of `allowed` (in any case, written back as declared);
    "integer" takes ASCII digits between `minimum` and `maximum`; "ip", "ipv4" and "ipv6" an address; "text"
    anything matching `pattern` when one is given. `expected` then says what that is: a message key under
    `enforce.` (`expected.reverse-dns`), or, for a target outside interdit, the words themselves.
    """

    name: str
    help: str
    default: str | None = None
    kind: Kind = "text"
    allowed: tuple[str, ...] = ()
    minimum: int = 0
    maximum: int = 2**31 - 1
    pattern: str | None = None
    expected: str = ""

    def describe(self, lang: str = "en") -> str:
        """What values it takes, for listings."""
        if self.kind == "choice":
            return " | ".join(self.allowed)
        if self.kind == "integer":
            return say(lang, "describe.integer", minimum=self.minimum, maximum=self.maximum)
        if self.kind in _ADDRESSES:
            return say(lang, f"describe.{self.kind}")
        return self.what(lang) if self.expected else say(lang, "describe.text")

    def what(self, lang: str) -> str:
        """`expected` in `lang`: its message when it names one, else as written."""
        return i18n.text(lang, f"enforce.{self.expected}", default=self.expected)

    def convert(self, raw: str, target: str, lang: str = "en") -> str:
        """The value, checked and in its declared spelling; OptionError naming the option otherwise."""
        shown = f"--option {self.name}={comment_text(raw, 40)!r}"
        example = self.default or (self.allowed[0] if self.allowed else str(self.minimum))
        where = f"enforce {target}"
        if self.kind == "choice":
            match = next((a for a in self.allowed if a.lower() == raw.lower()), None)
            if match is None:
                raise OptionError(say(lang, "option.not-available", shown=shown, target=target), where=where,
                                  fix=say(lang, "option.not-available.fix", choices=", ".join(self.allowed)))
            return match
        if self.kind == "integer":
            if not re.fullmatch(r"[0-9]{1,12}", raw) or not self.minimum <= int(raw) <= self.maximum:
                raise OptionError(
                    say(lang, "option.not-integer", shown=shown, minimum=self.minimum, maximum=self.maximum),
                    where=where, fix=say(lang, "option.not-integer.fix", name=self.name, example=example))
            return raw
        if self.kind in _ADDRESSES:
            try:
                ip = ipaddress.ip_address(raw)
                if (self.kind != "ip" and f"ipv{ip.version}" != self.kind) or getattr(ip, "scope_id", None):
                    raise ValueError(raw)
            except ValueError:
                raise OptionError(say(lang, "option.not-expected", shown=shown,
                                      expected=say(lang, f"expected.{self.kind}")), where=where,
                                  fix=say(lang, "option.pass", name=self.name, example=example)) from None
            return raw
        if self.pattern is not None and not re.fullmatch(self.pattern, raw):
            raise OptionError(say(lang, "option.not-expected", shown=shown, expected=self.what(lang)), where=where,
                              fix=say(lang, "option.pass-example", name=self.name, example=example))
        return raw


TARGET_KINDS = ("dns", "mdm")  # what a target's `kind` says: blocks names on the network, or apps in an MDM


class Target(Protocol):
    name: str
    kind: str  # one of TARGET_KINDS
    summary: str
    options: tuple[Option, ...]

    def build(self, request: EnforcementRequest) -> Payload:
        ...


# -- options: declared, checked, and none left unread -------------------------------------------------------


class _Recorded(Mapping[str, str]):
    """The request's options, remembering which keys the target looked at."""

    def __init__(self, options: Mapping[str, str]) -> None:
        self._options = options
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return self._options[key]

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.read.add(key)
        return key in self._options

    def __iter__(self) -> Iterator[str]:
        return iter(self._options)

    def __len__(self) -> int:
        return len(self._options)


# why a declared option may go unread, for the refusal's fix: enforce.option.unused.fix-<hint>
_UNUSED_HINTS = {"sinkhole": "sinkhole", "sinkhole6": "sinkhole", "ttl": "ttl"}


def check_options(target: str, declared: tuple[Option, ...], given: Mapping[str, str], lang: str = "en"
                  ) -> dict[str, str]:
    """The options a target runs with: those given, checked and converted, plus every declared default.

    Refuses a name the target does not declare (suggesting the closest declared one) and a value of the wrong
    kind, with the usual what / where / fix, in `lang`."""
    by_name = {o.name: o for o in declared}
    names = ", ".join(by_name) or say(lang, "option.none")
    for key in given:
        if key not in by_name:
            close = difflib.get_close_matches(key, list(by_name), n=1, cutoff=0.6)
            if not close:  # a wrong case or separator (playstoremode, grace-hours) is a typo too
                folded = {n.lower().replace("_", "").replace("-", ""): n for n in by_name}
                close = [folded[k] for k in (key.lower().replace("_", "").replace("-", ""),) if k in folded]
            shown = f"--option {comment_text(key, 40)}={comment_text(given[key], 40)!r}"
            fix = (say(lang, "option.unknown.fix-close", close=close[0], target=target, names=names) if close
                   else say(lang, "option.unknown.fix", target=target, names=names))
            raise OptionError(say(lang, "option.unknown", shown=shown, target=target), where=f"enforce {target}",
                              fix=fix)
    options = {o.name: o.default for o in declared if o.default is not None}
    options.update({key: by_name[key].convert(value, target, lang) for key, value in given.items()})
    return options


class _Named(Protocol):
    name: str
    options: tuple[Option, ...]


T = TypeVar("T", bound=_Named)


def checks_options(build: Callable[[T, EnforcementRequest], Payload]) -> Callable[[T, EnforcementRequest], Payload]:
    """Wrap a target's `build`: its declared options are checked first (`check_options`), and an option given
    but not read with these settings (one that does not apply here) is refused after it ran."""

    @functools.wraps(build)
    def checked(self: T, request: EnforcementRequest) -> Payload:
        given, lang = request.options, request.lang
        recorded = _Recorded(check_options(self.name, self.options, given, lang))
        payload = build(self, replace(request, options=recorded))
        unused = sorted(set(given) - recorded.read)
        if unused:
            shown = ", ".join(f"{k}={comment_text(given[k], 40)!r}" for k in unused)
            read = ", ".join(sorted(recorded.read)) or "-"
            hint = next((_UNUSED_HINTS[k] for k in unused if k in _UNUSED_HINTS), "")
            raise OptionError(say(lang, "option.unused", shown=shown, target=self.name),
                              where=f"enforce {self.name}",
                              fix=say(lang, f"option.unused.fix-{hint}" if hint else "option.unused.fix", read=read))
        return replace(payload, lang=lang)

    return checked


_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})  # controls (newline, CR, NUL...), format, surrogates, breaks


def comment_text(value: object, limit: int = 120) -> str:
    """`value` as one line of plain text: control characters and line breaks become spaces, runs of spaces
    one space, and text longer than `limit` characters is cut at a word when it can and ends with "..."."""
    s = "".join(" " if unicodedata.category(c) in _UNSAFE else c for c in str(value))
    s = " ".join(s.split())
    if len(s) > limit:
        cut = s[:limit - 3]
        if " " in cut[limit // 2:]:
            cut = cut[:cut.rindex(" ")]
        s = cut.rstrip() + "..."
    return s


targets: Registry[type[Target]] = Registry("enforcement", builtins="interdit.enforcement")
