"""Intune's managedDevice fields as interdit reads them: every documented value of `managedDeviceOwnerType`,
`deviceEnrollmentType`, `managementAgent` and `operatingSystem`, mapped on purpose from the Graph reference
(the URLs beside each table), and the Device a managedDevice becomes. An undocumented value is `unknown`, with a
note naming it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from interdit.inventory._common import bool_or_none, clean, observed
from interdit.model import CoverageReason, Device, Management, Ownership, Platform

# What Intune's discovered-apps inventory holds, by ownership (https://learn.microsoft.com/en-us/intune/intune-service/
# apps/app-discovered-apps): on company-owned devices every app (iOS/iPadOS: all but system apps; macOS, Android
# device administrator and Windows modern apps: all), on personally owned devices only managed apps, on Android
# Enterprise corporate-owned enrolments the apps of the managed (work) profile, on AOSP enrolments nothing.

# managedDeviceOwnerType: https://learn.microsoft.com/en-us/graph/api/resources/intune-devices-manageddeviceownertype
OWNER_TYPES = {"company": Ownership.CORPORATE, "personal": Ownership.PERSONAL, "unknown": Ownership.UNKNOWN}

# deviceEnrollmentType (v1.0 and beta): https://learn.microsoft.com/en-us/graph/api/resources/intune-devices-
# deviceenrollmenttype and api-reference/beta/resources/intune-devices-deviceenrollmenttype.md in
# microsoftgraph/microsoft-graph-docs-contrib. "ownership": Intune keys its inventory on ownership (a company-owned
# device is inventoried in full whatever its enrolment channel, `unknown` included).
ENROLLMENT_TYPES: dict[str, str] = {
    "unknown": "ownership",  # "enrollment type was not collected"
    "userEnrollment": "ownership",  # "user driven enrollment through BYOD channel" (Company Portal)
    "deviceEnrollmentManager": "ownership",  # enrolled with a device enrollment manager account
    "appleBulkWithUser": "ownership",  # automated device enrolment (ADE/DEP, Apple Configurator) with a user
    "appleBulkWithoutUser": "ownership",  # ADE/DEP, Apple Configurator, mobileconfig, without a user
    "windowsAzureADJoin": "ownership",
    "windowsBulkUserless": "ownership",
    "windowsAutoEnrollment": "ownership",
    "windowsBulkAzureDomainJoin": "ownership",
    "windowsCoManagement": "ownership",
    "windowsAzureADJoinUsingDeviceAuth": "ownership",
    "azureAdJoinUsingAzureVmExtension": "ownership",
    "appleUserEnrollment": "user_enrolment",  # a separate managed partition: only managed apps are visible
    "appleUserEnrollmentWithServiceAccount": "user_enrolment",
    "appleAccountDrivenUserEnrollment": "user_enrolment",
    "androidEnterpriseDedicatedDevice": "full",  # corporate-owned: the whole device is the managed profile
    "androidEnterpriseFullyManaged": "full",
    "androidEnterpriseCorporateWorkProfile": "work_profile",  # only the work profile's apps are inventoried
    "androidEnterpriseWorkProfile": "work_profile",  # not in today's table; the work profile, should it come back
    "androidAOSPUserOwnedDeviceEnrollment": "not_reported",  # "AOSP enrollments don't display discovered apps"
    "androidAOSPUserlessDeviceEnrollment": "not_reported",
    "unknownFutureValue": "ownership",  # the evolvable-enum sentinel: no information beyond ownership
}

# managementAgent: https://learn.microsoft.com/en-us/graph/api/resources/intune-devices-managementagenttype (v1.0,
# and beta for microsoft365ManagedMdm, msSense, intuneAosp, google, unknownFutureValue). What Intune's own
# inventory can hold for the device: "mdm" (enrolled), "unmanaged" (no MDM enrolment, no app inventory),
# "not_reported" (another system holds the inventory), "enrolment" (no information: the enrolment type decides).
MANAGEMENT_AGENTS: dict[str, str] = {
    "eas": "unmanaged",  # Exchange ActiveSync only
    "mdm": "mdm", "easMdm": "mdm", "intuneClient": "mdm", "easIntuneClient": "mdm",
    "configurationManagerClient": "not_reported",  # Configuration Manager only: its inventory is not Intune's
    "configurationManagerClientMdm": "mdm", "configurationManagerClientMdmEas": "mdm",
    "unknown": "enrolment",
    "jamf": "not_reported",  # attributes fetched from Jamf (partner compliance): import the Jamf source
    "googleCloudDevicePolicyController": "mdm",
    "microsoft365ManagedMdm": "mdm",
    "msSense": "unmanaged",  # Defender for Endpoint security settings management, not an MDM enrolment
    "intuneAosp": "not_reported",  # AOSP: no discovered apps
    "google": "mdm",
    "unknownFutureValue": "enrolment",
}

# operatingSystem is a string ("Operating system of the device. Windows, iOS, etc."): the values Intune writes
OPERATING_SYSTEMS = {"iOS": Platform.IOS, "iPadOS": Platform.IOS, "Android": Platform.ANDROID,
                     "AndroidEnterprise": Platform.ANDROID, "AndroidForWork": Platform.ANDROID,
                     "androidAOSP": Platform.ANDROID, "macOS": Platform.MACOS, "Windows": Platform.WINDOWS}
_PLATFORMS = {"iOS": Platform.IOS, "iPadOS": Platform.IOS, "Android": Platform.ANDROID, "macOS": Platform.MACOS,
              "Windows": Platform.WINDOWS}


def platform_of(os_name: Any) -> Platform | None:
    known = OPERATING_SYSTEMS.get(str(os_name or ""))
    if known is not None:
        return known
    text = str(os_name or "").lower()
    if text.startswith(("ios", "ipados")):
        return Platform.IOS
    if text.startswith("android"):
        return Platform.ANDROID
    if text.startswith(("macos", "mac os", "macmdm")):
        return Platform.MACOS
    if text.startswith("windows"):
        return Platform.WINDOWS
    return None


Note = Callable[[str], None]


def _undocumented(note: Note, field: str, value: Any) -> None:
    note(f"Intune {field} {str(value)[:60]!r} is not a documented value: the device's coverage is taken as unknown "
         "(not evaluable); tell the maintainers which value Intune sent")


def ownership_of(owner: Any, note: Note | None = None) -> Ownership:
    if owner is None or owner == "":
        return Ownership.UNKNOWN
    found = OWNER_TYPES.get(str(owner))
    if found is None:
        if note:
            _undocumented(note, "managedDeviceOwnerType", owner)
        return Ownership.UNKNOWN
    return found


def management_of(platform: Platform, ownership: Ownership, enrollment: Any, agent: Any = None,
                  note: Note | None = None) -> tuple[Management, CoverageReason | None]:
    """How much of the device Intune's discovered-apps inventory shows, from the enrolment type, the ownership and
    the management agent (see the tables above); an undocumented value is `unknown`, with a note naming it."""
    kind = str(enrollment or "unknown")
    how = ENROLLMENT_TYPES.get(kind)
    if how is None:
        if note:
            _undocumented(note, "deviceEnrollmentType", enrollment)
        return Management.UNKNOWN, None
    agent_kind = MANAGEMENT_AGENTS.get(str(agent)) if agent not in (None, "") else "enrolment"
    if agent_kind is None:
        if note:
            _undocumented(note, "managementAgent", agent)
        return Management.UNKNOWN, None
    if agent_kind == "unmanaged":
        return Management.UNMANAGED, None
    gap = CoverageReason.NOT_REPORTED if agent_kind == "not_reported" or how == "not_reported" else None
    if how == "user_enrolment":
        return Management.USER_ENROLMENT, gap
    if how == "work_profile":
        return Management.WORK_PROFILE, gap
    if how in ("full", "not_reported"):
        return Management.FULLY_MANAGED, gap
    # by ownership: Intune inventories every app of a company-owned device, only managed apps of a personal one
    if ownership is Ownership.CORPORATE:
        if platform is Platform.ANDROID and kind in ("userEnrollment", "unknown", "unknownFutureValue"):
            # an Android device with no Android Enterprise enrolment type: a personally owned work profile marked
            # company-owned, or (in v1.0, which lacks the Android Enterprise values) any Android Enterprise
            # enrolment; only the work profile is certain to be inventoried
            return Management.WORK_PROFILE, gap
        return Management.FULLY_MANAGED, gap
    if ownership is Ownership.PERSONAL:
        if platform in (Platform.IOS, Platform.MACOS):
            return Management.USER_ENROLMENT, gap
        return (Management.WORK_PROFILE if platform is Platform.ANDROID else Management.UNKNOWN), gap
    return Management.UNKNOWN, gap


def device_from_graph(source: str, item: Mapping[str, Any], now: datetime, note: Note | None = None) -> Device:
    """A Device from a Graph managedDevice; ValueError says what is wrong."""
    device_id = clean(item.get("id"))
    if not device_id:
        raise ValueError("managedDevice without an id")
    platform = platform_of(item.get("operatingSystem"))
    if platform is None:
        raise ValueError(f"operatingSystem {item.get('operatingSystem')!r} is not a known platform")
    ownership = ownership_of(item.get("managedDeviceOwnerType"), note)
    management, gap = management_of(platform, ownership, item.get("deviceEnrollmentType"),
                                    item.get("managementAgent"), note)
    mac = clean(item.get("wiFiMacAddress"))
    category = clean(item.get("deviceCategoryDisplayName")) or ""
    return Device(
        source=source, device_id=device_id, platform=platform, ownership=ownership,
        management=management,
        observed_at=observed(item.get("lastSyncDateTime"), now),
        supervised=bool_or_none(item.get("isSupervised")) if platform is Platform.IOS else None,
        user=clean(item.get("userPrincipalName")), name=clean(item.get("deviceName")), model=clean(item.get("model")),
        os_version=clean(item.get("osVersion")),
        org_unit=category if category_labels(category) or category.startswith("/") else None,
        addresses=(mac,) if mac else (), coverage_gap=gap,
        org_labels=category_labels(category), groups=tuple(item.get(GROUPS_KEY) or ()),
    )


GROUPS_KEY = "@interdit.groups"  # where the live connector puts a device's Entra ID groups before it is read


def category_labels(category: str) -> tuple[tuple[str, str], ...]:
    """An Intune device category as an organisational label; a category written as a path (`/Finance`) is taken
    as the org unit itself, and the built-in "Unknown" (nobody categorised the device) says nothing."""
    if not category or category.startswith("/") or category.casefold() in ("unknown", "inconnu"):
        return ()
    return (("category", category),)
