"""Android permissions in a reviewer's words: what each one exposes, and how Android protects it.

Protection levels come from the Android platform manifest (frameworks/base/core/res/AndroidManifest.xml);
`special` marks permissions the user grants in Settings (overlay, usage access, install packages, ...).
"""

from __future__ import annotations

from interdit.analysis.report import Permission

GROUPS = {
    "location": "Location: where the device (and its user) is",
    "camera": "Camera: photos and video",
    "microphone": "Microphone: audio recording",
    "contacts": "Contacts: the user's address book and social graph",
    "sms_calls": "SMS and call logs: messages, calls, who the user talks to",
    "phone_identity": "Phone identity: phone number, device identifiers, call state",
    "accounts": "Accounts: the accounts on the device",
    "storage": "Storage: files, photos and media on the device",
    "sensors": "Sensors: body sensors and physical activity",
    "background": "Background activity: running, starting or drawing over other apps unseen",
    "calendar": "Calendar: events and attendees",
    "nearby": "Nearby devices: Bluetooth and Wi-Fi scanning (can reveal location)",
    "apps": "Other apps: which apps are installed and used",
    "network": "Network access",
    "other": "Other",
}

_P = "android.permission."
# name (without android.permission.) -> (protection, group)
TABLE: dict[str, tuple[str, str]] = {
    "ACCESS_FINE_LOCATION": ("dangerous", "location"),
    "ACCESS_COARSE_LOCATION": ("dangerous", "location"),
    "ACCESS_BACKGROUND_LOCATION": ("dangerous", "location"),
    "ACCESS_MEDIA_LOCATION": ("dangerous", "location"),
    "CAMERA": ("dangerous", "camera"),
    "RECORD_AUDIO": ("dangerous", "microphone"),
    "CAPTURE_AUDIO_OUTPUT": ("signature", "microphone"),
    "READ_CONTACTS": ("dangerous", "contacts"),
    "WRITE_CONTACTS": ("dangerous", "contacts"),
    "GET_ACCOUNTS": ("dangerous", "accounts"),
    "MANAGE_ACCOUNTS": ("normal", "accounts"),
    "USE_CREDENTIALS": ("normal", "accounts"),
    "AUTHENTICATE_ACCOUNTS": ("normal", "accounts"),
    "READ_SMS": ("dangerous", "sms_calls"),
    "SEND_SMS": ("dangerous", "sms_calls"),
    "RECEIVE_SMS": ("dangerous", "sms_calls"),
    "RECEIVE_MMS": ("dangerous", "sms_calls"),
    "RECEIVE_WAP_PUSH": ("dangerous", "sms_calls"),
    "READ_CALL_LOG": ("dangerous", "sms_calls"),
    "WRITE_CALL_LOG": ("dangerous", "sms_calls"),
    "PROCESS_OUTGOING_CALLS": ("dangerous", "sms_calls"),
    "CALL_PHONE": ("dangerous", "sms_calls"),
    "ANSWER_PHONE_CALLS": ("dangerous", "sms_calls"),
    "READ_PHONE_STATE": ("dangerous", "phone_identity"),
    "READ_PHONE_NUMBERS": ("dangerous", "phone_identity"),
    "READ_PRIVILEGED_PHONE_STATE": ("signature", "phone_identity"),
    "USE_SIP": ("dangerous", "phone_identity"),
    "READ_EXTERNAL_STORAGE": ("dangerous", "storage"),
    "WRITE_EXTERNAL_STORAGE": ("dangerous", "storage"),
    "MANAGE_EXTERNAL_STORAGE": ("special", "storage"),
    "READ_MEDIA_IMAGES": ("dangerous", "storage"),
    "READ_MEDIA_VIDEO": ("dangerous", "storage"),
    "READ_MEDIA_AUDIO": ("dangerous", "storage"),
    "READ_MEDIA_VISUAL_USER_SELECTED": ("dangerous", "storage"),
    "BODY_SENSORS": ("dangerous", "sensors"),
    "BODY_SENSORS_BACKGROUND": ("dangerous", "sensors"),
    "ACTIVITY_RECOGNITION": ("dangerous", "sensors"),
    "HIGH_SAMPLING_RATE_SENSORS": ("normal", "sensors"),
    "READ_CALENDAR": ("dangerous", "calendar"),
    "WRITE_CALENDAR": ("dangerous", "calendar"),
    "BLUETOOTH_SCAN": ("dangerous", "nearby"),
    "BLUETOOTH_CONNECT": ("dangerous", "nearby"),
    "BLUETOOTH_ADVERTISE": ("dangerous", "nearby"),
    "NEARBY_WIFI_DEVICES": ("dangerous", "nearby"),
    "UWB_RANGING": ("dangerous", "nearby"),
    "ACCESS_WIFI_STATE": ("normal", "nearby"),
    "CHANGE_WIFI_STATE": ("normal", "nearby"),
    "BLUETOOTH": ("normal", "nearby"),
    "BLUETOOTH_ADMIN": ("normal", "nearby"),
    "SYSTEM_ALERT_WINDOW": ("special", "background"),
    "RECEIVE_BOOT_COMPLETED": ("normal", "background"),
    "FOREGROUND_SERVICE": ("normal", "background"),
    "WAKE_LOCK": ("normal", "background"),
    "REQUEST_IGNORE_BATTERY_OPTIMIZATIONS": ("normal", "background"),
    "SCHEDULE_EXACT_ALARM": ("special", "background"),
    "BIND_ACCESSIBILITY_SERVICE": ("signature", "background"),
    "BIND_NOTIFICATION_LISTENER_SERVICE": ("signature", "background"),
    "BIND_DEVICE_ADMIN": ("signature", "background"),
    "DISABLE_KEYGUARD": ("normal", "background"),
    "POST_NOTIFICATIONS": ("dangerous", "background"),
    "PACKAGE_USAGE_STATS": ("special", "apps"),
    "QUERY_ALL_PACKAGES": ("normal", "apps"),
    "GET_TASKS": ("normal", "apps"),
    "REQUEST_INSTALL_PACKAGES": ("special", "apps"),
    "INSTALL_PACKAGES": ("signature", "apps"),
    "DELETE_PACKAGES": ("signature", "apps"),
    "WRITE_SETTINGS": ("special", "other"),
    "WRITE_SECURE_SETTINGS": ("signature", "other"),
    "INTERNET": ("normal", "network"),
    "ACCESS_NETWORK_STATE": ("normal", "network"),
    "CHANGE_NETWORK_STATE": ("normal", "network"),
    "CHANGE_WIFI_MULTICAST_STATE": ("normal", "network"),
    "VIBRATE": ("normal", "other"),
    "READ_LOGS": ("signature", "other"),
}


def describe(name: str, max_sdk: int | None = None, sdk23: bool = False,
             declared: dict[str, str] | None = None, where: str = "AndroidManifest.xml") -> Permission:
    """Protection level and reviewer group of one requested permission."""
    short = name[len(_P):] if name.startswith(_P) else None
    if short is not None and short in TABLE:
        protection, group = TABLE[short]
    elif declared and name in declared:
        protection, group = declared[name], "other"
    elif short is not None:
        protection, group = "unknown", "other"
    else:
        protection, group = "custom", "other"
    return Permission(name=name, protection=protection, group=group, description=GROUPS[group],
                      max_sdk=max_sdk, sdk23=sdk23, where=where)
