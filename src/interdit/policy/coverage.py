"""Coverage in evaluation: why a device's app list cannot prove it clean, in words a person can act on.

Every device in scope has a coverage (`Device.coverage`: management first, then the source's own gap). Only a
`full` device can be compliant; a `partial` or `none` device gets one `not_evaluable` finding per rule covering
it, whose evidence is the reason and its fix (docs/policy.md, "When interdit says not evaluable, and why").
"""

from __future__ import annotations

from interdit.model import Coverage, CoverageReason, Device, Management

# one sentence per reason: what interdit cannot see, and what to do about it
REASONS: dict[str, dict[CoverageReason, str]] = {
    "en": {
        CoverageReason.WORK_PROFILE:
            "Android work profile: the source sees only the apps of the work profile, not those of the personal "
            "side — enrol the device fully managed to evaluate it, or accept it as not evaluable",
        CoverageReason.USER_ENROLMENT:
            "Apple user enrolment: the source sees only the apps it manages — enrol the device with Automated "
            "Device Enrollment or a device enrolment to see every app",
        CoverageReason.UNMANAGED:
            "the device is not enrolled in a device management tool, so none of its apps is visible — enrol it",
        CoverageReason.MANAGEMENT_UNKNOWN:
            "the source did not say how the device is managed, so whether it lists every app is unknown — check "
            "the device's enrolment type and ownership in the source",
        CoverageReason.DISPLAY_NAMES_ONLY:
            "the source lists apps by display name only; an app it names differently cannot be ruled out — "
            "export package/bundle ids (Intune: the AppInvRawData report, whose ApplicationKey column holds them)",
        CoverageReason.APP_REPORTS_DISABLED:
            "application reports are switched off in the device's policy: turn on "
            "statusReportingSettings.applicationReportsEnabled",
        CoverageReason.NOT_REPORTED:
            "the source sent no app list for this device (for example while it is still provisioning) — an "
            "absent list is not an empty one: wait for its first app report, or check why it sends none",
        CoverageReason.NO_APPS_REPORTED:
            "every device of this source came in with no app at all, which a real fleet never shows — check the "
            "export (the per-device app lists may be missing) and import it again",
        CoverageReason.UNREADABLE:
            "the device's record could not be read in the last snapshot; its last known apps are kept — fix the "
            "rejected row (see the import's rejections) and import again",
    },
    "fr": {
        CoverageReason.WORK_PROFILE:
            "profil professionnel Android : la source ne voit que les applications du profil professionnel, pas "
            "celles du côté personnel — inscrivez l'appareil en mode entièrement géré pour l'évaluer, ou "
            "acceptez qu'il reste non évaluable",
        CoverageReason.USER_ENROLMENT:
            "inscription d'utilisateur Apple : la source ne voit que les applications qu'elle gère — inscrivez "
            "l'appareil par l'inscription automatisée (ADE) ou une inscription d'appareil pour voir toutes ses "
            "applications",
        CoverageReason.UNMANAGED:
            "l'appareil n'est inscrit dans aucun outil de gestion : aucune de ses applications n'est visible — "
            "inscrivez-le",
        CoverageReason.MANAGEMENT_UNKNOWN:
            "la source n'a pas dit comment l'appareil est géré : on ignore si elle en liste toutes les "
            "applications — vérifiez le type d'inscription et la propriété de l'appareil dans la source",
        CoverageReason.DISPLAY_NAMES_ONLY:
            "la source ne liste les applications que par leur nom affiché ; une application qu'elle nomme "
            "autrement ne peut être exclue — exportez les identifiants de paquet (Intune : le rapport "
            "AppInvRawData, dont la colonne ApplicationKey les contient)",
        CoverageReason.APP_REPORTS_DISABLED:
            "les rapports d'applications sont désactivés dans la stratégie de l'appareil : activez "
            "statusReportingSettings.applicationReportsEnabled",
        CoverageReason.NOT_REPORTED:
            "la source n'a transmis aucune liste d'applications pour cet appareil (par exemple pendant son "
            "provisionnement) — une liste absente n'est pas une liste vide : attendez son premier rapport "
            "d'applications, ou cherchez pourquoi il n'en envoie pas",
        CoverageReason.NO_APPS_REPORTED:
            "tous les appareils de cette source sont arrivés sans aucune application, ce qu'un vrai parc ne "
            "montre jamais — vérifiez l'export (les listes d'applications par appareil manquent peut-être) et "
            "importez-le de nouveau",
        CoverageReason.UNREADABLE:
            "la fiche de l'appareil n'a pas pu être lue dans le dernier instantané ; ses dernières applications "
            "connues sont conservées — corrigez la ligne rejetée (voir les rejets de l'import) et importez de "
            "nouveau",
    },
}

_LINE = {
    "en": "coverage '{coverage}' ({reason}): prohibited apps the source does not list cannot be ruled out, so the "
          "device is not counted as compliant",
    "fr": "couverture « {coverage} » ({reason}) : des applications interdites que la source ne liste pas ne peuvent "
          "être exclues ; l'appareil n'est donc pas compté comme conforme",
}

# what `_Coverage.of` answers: the coverage, its reason (None when full) and the finding's evidence (() when full)
Seen = tuple[Coverage, CoverageReason | None, tuple[str, ...]]


def reason_sentence(reason: CoverageReason, lang: str = "en") -> str:
    table = REASONS.get(lang, REASONS["en"])
    return table[reason]


def coverage_evidence(coverage: Coverage, reason: CoverageReason, lang: str = "en") -> tuple[str, ...]:
    """The evidence of a `not_evaluable` finding: the reason with its fix, then what it means for the rate."""
    line = _LINE.get(lang, _LINE["en"])
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
