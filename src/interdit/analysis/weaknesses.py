"""Manifest and code weaknesses, each with the place it was found."""

from __future__ import annotations

import bisect
import re

from interdit.analysis.dex import DexFile
from interdit.analysis.manifest import Manifest
from interdit.analysis.report import Weakness

WHERE = "AndroidManifest.xml"
_SECRETS: tuple[tuple[str, str, re.Pattern[bytes]], ...] = (
    ("secret.aws-access-key", "AWS access key id", re.compile(rb"A(?:KIA|SIA)[0-9A-Z]{16}(?![A-Z0-9])")),
    ("secret.google-api-key", "Google API key", re.compile(rb"AIza[0-9A-Za-z_-]{35}")),
    ("secret.private-key", "PEM private key", re.compile(rb"-----BEGIN (?:RSA |EC |DSA |OPENSSH )?PRIVATE KEY-----")),
    ("secret.slack-token", "Slack token", re.compile(rb"xox[abposr]-[0-9A-Za-z-]{10,}")),
    ("secret.github-token", "GitHub token", re.compile(rb"gh[pousr]_[0-9A-Za-z]{36}")),
    ("secret.stripe-key", "Stripe secret key", re.compile(rb"sk_live_[0-9A-Za-z]{24,}")),
)


def manifest_weaknesses(man: Manifest) -> list[Weakness]:
    out: list[Weakness] = []
    app_where = f"{WHERE}:{man.application_line}" if man.application_line else WHERE
    target = man.target_sdk or 1
    if man.flag("debuggable"):
        out.append(Weakness("manifest.debuggable", "high", "the application is debuggable: anyone with USB access "
                            "can attach a debugger and read its data", app_where, 'android:debuggable="true"'))
    if man.flag("testOnly"):
        out.append(Weakness("manifest.test-only", "medium", "marked testOnly: a development build", app_where,
                            'android:testOnly="true"'))
    backup = man.flag("allowBackup")
    if backup is not False:
        evidence = 'android:allowBackup="true"' if backup else "android:allowBackup absent (defaults to true)"
        out.append(Weakness("manifest.allow-backup", "low", "app data can be copied off the device by backup",
                            app_where, evidence))
    cleartext = man.flag("usesCleartextTraffic")
    nsc = man.application.get("networkSecurityConfig")
    if cleartext or (cleartext is None and target < 28 and nsc is None):
        evidence = ('android:usesCleartextTraffic="true"' if cleartext
                    else f"usesCleartextTraffic absent and targetSdk {target} < 28 (defaults to true)")
        if nsc:
            evidence += f"; a network security config ({nsc}) may narrow it"
        out.append(Weakness("manifest.cleartext-traffic", "medium", "unencrypted HTTP traffic is allowed",
                            app_where, evidence))
    if nsc:
        out.append(Weakness("manifest.network-security-config", "info",
                            "a network security config sets trust anchors and cleartext rules (review it)",
                            app_where, f"android:networkSecurityConfig={nsc}"))
    if man.shared_user_id:
        out.append(Weakness("manifest.shared-user-id", "medium", "shares a Linux user id with other apps from the "
                            "same signer", WHERE, f"android:sharedUserId={man.shared_user_id}"))
    for c in man.components:
        where = f"{WHERE}:{c.line}" if c.line else WHERE
        launcher = any("android.intent.action.MAIN" in f for f in c.intent_filters)
        if c.effective_exported and c.permission is None and not launcher:
            how = "android:exported=\"true\"" if c.exported else "exported by its intent filter (default)"
            if c.kind == "provider" and c.exported is None:
                how = f"providers are exported by default below targetSdk 17 (targetSdk {target})"
            out.append(Weakness("manifest.exported-component", "medium",
                                f"{c.kind} {c.name} can be started by any app, without a permission", where,
                                f"{c.kind} {c.name}: {how}"))
        if c.kind in ("activity", "activity-alias") and c.task_affinity and c.task_affinity != man.package:
            out.append(Weakness("manifest.task-affinity", "medium",
                                f"{c.kind} {c.name} joins task {c.task_affinity!r}: task hijacking (StrandHogg) "
                                "risk", where, f"android:taskAffinity={c.task_affinity}"))
    return out


def secret_weaknesses(files: list[DexFile], limit: int = 50) -> list[Weakness]:
    out: list[Weakness] = []
    for dex in files:
        joined, starts = dex.joined()
        for wid, label, pattern in _SECRETS:
            for m in pattern.finditer(joined):
                value = m.group().decode("ascii", "replace")
                shown = value[:8] + "…" + value[-4:] if len(value) > 16 else value
                out.append(Weakness(wid, "medium", f"hard-coded {label}",
                                    dex.place(bisect.bisect_right(starts, m.start()) - 1), shown))
                if len(out) >= limit:
                    return out
    return out
