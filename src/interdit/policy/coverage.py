"""Coverage in evaluation: why a device's app list cannot prove it clean, in words a person can act on.

Every device in scope has a coverage (`Device.coverage`: management first, then the source's own gap). Only a
`full` device can be compliant; a `partial` or `none` device gets one `not_evaluable` finding per rule covering
it, whose evidence is the reason and its fix (docs/policy.md, "When interdit says not evaluable, and why").
"""

from __future__ import annotations

from interdit import i18n
from interdit.model import Coverage, CoverageReason, Device, Management

# what `_Coverage.of` answers: the coverage, its reason (None when full) and the finding's evidence (() when full)
Seen = tuple[Coverage, CoverageReason | None, tuple[str, ...]]


def reason_sentence(reason: CoverageReason, lang: str = "en") -> str:
    """What interdit cannot see and what to do about it (the message "coverage.reason.<reason>")."""
    return i18n.text(lang if lang in i18n.LANGS else "en", f"coverage.reason.{reason.value}")


def coverage_evidence(coverage: Coverage, reason: CoverageReason, lang: str = "en") -> tuple[str, ...]:
    """The evidence of a `not_evaluable` finding: the reason with its fix, then what it means for the rate."""
    line = i18n.text(lang if lang in i18n.LANGS else "en", "coverage.line")
    return (reason_sentence(reason, lang), line.format(coverage=coverage.value, reason=reason.value))


class CoverageOf:
    """A device's coverage and the evidence to give, cached by (management, coverage gap): a fleet holds only a
    handful of combinations, so the hot loop pays one dictionary look-up per device."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.cache: dict[tuple[Management, CoverageReason | None], Seen] = {}

    def __call__(self, device: Device) -> Seen:
        key = (device.management, device.coverage_gap)
        found = self.cache.get(key)
        if found is None:
            coverage, reason = device.coverage
            evidence = () if reason is None else coverage_evidence(coverage, reason, self.lang)
            found = self.cache[key] = (coverage, reason, evidence)
        return found
