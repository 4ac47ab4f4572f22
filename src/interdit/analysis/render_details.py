"""Report sections every renderer shows as label/value rows: the SDK signature sets used and, for iOS apps, the
bundle, signing, entitlements, privacy manifests, network settings, executable and frameworks."""

from __future__ import annotations

from typing import Any

from interdit.analysis.i18n import DETAILS, pick, word

Section = tuple[str, list[tuple[str, str]]]

def _w(key: str, lang: str, *args: object) -> str:
    return pick(DETAILS, key, lang).format(*args)


def _yes(value: Any, lang: str) -> str:
    if value is None:
        return "?"
    return word("yes", lang) if value else word("no", lang)


def details(report: Any, lang: str) -> list[Section]:
    """The sections of `report` (an AppReport) beyond the common tables, in `lang`."""
    sets = list(report.signature_sets)
    rows = [(word("signature_sets", lang), "; ".join(sets) or "-")]
    if sets and not any(s.startswith("Exodus") for s in sets):
        rows.append(("", word("builtin_only", lang)))
    out: list[Section] = [(word("signature_sets", lang), rows)]
    ios = report.ios
    if not ios:
        return out
    ident = ios.get("identity", {})
    out.append((word("ios_identity", lang), [
        (word("platform", lang), report.identity.platform),
        (word("min_os", lang), report.identity.min_os or "?"),
        (_w("device_families", lang), ", ".join(ident.get("device_families") or ()) or "?"),
        (_w("supported_platforms", lang), ", ".join(ident.get("supported_platforms") or ()) or "?"),
        (_w("bundle_version", lang), str(ident.get("bundle_version") or "?")),
        (_w("background_modes", lang), ", ".join(ident.get("background_modes") or ()) or "-"),
        (_w("skadnetwork_ids", lang), str(len(ident.get("skadnetwork_ids") or ()))),
        *([(_w("store", lang), ", ".join(f"{k}: {v}" for k, v in ios["store"].items()))] if ios.get("store") else []),
    ]))
    out.append((word("ios_signing", lang), _signing(ios.get("signing", {}), lang)))
    ents = ios.get("signing", {}).get("entitlements") or []
    if ents:
        out.append((word("ios_entitlements", lang), [
            (e["key"], f"{e['value']}" + (f" — {e.get(lang) or e.get('en')}" if e.get("en") else ""))
            for e in ents]))
    manifests = ios.get("privacy_manifests") or []
    if manifests:
        rows = []
        for m in manifests:
            bits = [f"{_w('tracking', lang)}: {_yes(m.get('tracking'), lang)}"]
            if m.get("tracking_domains"):
                bits.append(f"{_w('tracking_domains', lang)}: {', '.join(m['tracking_domains'][:10])}")
            if m.get("collected"):
                bits.append(f"{_w('collected', lang)}: {', '.join(c['type'] for c in m['collected'][:12])}")
            if m.get("accessed_apis"):
                bits.append(f"{_w('accessed_apis', lang)}: " + ", ".join(
                    f"{a['type'].removeprefix('NSPrivacyAccessedAPICategory')} ({', '.join(a['reasons'])})"
                    for a in m["accessed_apis"][:10]))
            rows.append((m["where"], "; ".join(bits)))
        out.append((word("ios_privacy", lang), rows))
    net = ios.get("network", {})
    ats = net.get("ats") or {}
    ats_text = ", ".join(f"{k}={v}" for k, v in ats.items() if k != "NSExceptionDomains") or "-"
    if ats.get("NSExceptionDomains"):
        ats_text += "; NSExceptionDomains: " + ", ".join(ats["NSExceptionDomains"])
    out.append((word("ios_network", lang), [
        (_w("ats", lang), ats_text),
        (_w("url_schemes", lang), ", ".join(net.get("url_schemes") or ()) or "-"),
        (_w("queried_schemes", lang), ", ".join(net.get("queried_schemes") or ()) or "-"),
    ]))
    binary = ios.get("binary")
    if binary:
        rows = []
        for s in binary.get("slices", []):
            enc = s.get("encrypted")
            state = "-" if enc is None else _w("encrypted", lang) if enc else _w("not_encrypted", lang)
            rows.append((s["arch"], f"{s['platform'] or '?'} {s['min_os'] or ''}; {state}; PIE {_yes(s['pie'], lang)}; "
                                    f"stack canary {_yes(s['stack_canary'], lang)}; ARC {_yes(s['arc'], lang)}"))
            linked = [p for p in s.get("linked", []) if p.startswith("@")]
            if linked:
                rows.append((_w("linked", lang), ", ".join(p.rsplit("/", 1)[-1] for p in linked[:30])))
        out.append((word("ios_binary", lang), rows))
    rows = [(f["name"], " ".join(x for x in (f.get("bundle_id"), f.get("version")) if x) or f["where"])
            for f in ios.get("frameworks") or []]
    rows += [(e["where"], f"{e['bundle_id']} ({e['kind']})") for e in ios.get("extensions") or []]
    if rows:
        out.append((word("ios_bundles", lang), rows))
    return out


def _signing(sig: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    rows = []
    cs = sig.get("code_signature")
    if cs is None:
        rows.append((_w("code_signature", lang), _w("unsigned", lang)))
    else:
        kind = "CMS" if cs.get("cms") else _w("ad_hoc", lang)
        rows.append((_w("code_signature", lang),
                     f"{kind}; {cs.get('identifier') or '?'}; team {cs.get('team_id') or '?'}; "
                     f"CodeDirectory {cs.get('code_directory_version')} {', '.join(cs.get('hash_types') or ())}"))
    p = sig.get("profile")
    if p is not None:
        expiry = f"{p['expires'][:10]}" + (f" ({_w('expired', lang)})" if p.get("expired") else "")
        rows.append((_w("profile", lang), f"{p['type']}: {p['name']}; {p.get('team_name') or ''} "
                                          f"({p.get('team_id') or '?'}); → {expiry}; "
                                          f"{_w('devices', lang, p.get('provisioned_devices', 0))}"))
    return rows
