"""The enforcement interface: one module per target (an MDM payload or a DNS/proxy configuration).

A target turns the policy and the catalogue into files a person or an API applies, with the caveats the
person must know printed beside them ("hides the app, does not remove it", "cannot cover subdomains").

    @targets.register("unbound")
    class Unbound:
        name = "unbound"
        summary = "Unbound local-zone configuration (always_nxdomain)"
        def build(self, request: EnforcementRequest) -> Payload: ...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

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


@dataclass(frozen=True, slots=True)
class Payload:
    """Files to write (name -> content) and what the person applying them must know."""

    target: str
    files: Mapping[str, str | bytes]
    caveats: tuple[str, ...] = ()
    media_type: str = "text/plain"


class Target(Protocol):
    name: str
    summary: str

    def build(self, request: EnforcementRequest) -> Payload:
        ...


targets: Registry[type[Target]] = Registry("enforcement", builtins="interdit.enforcement")
