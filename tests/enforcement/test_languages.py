"""Enforcement in the reader's language: the request's `lang` picks the catalogue its caveats, push plan lines and
option refusals come from; `interdit enforce --lang fr` and `POST /api/v1/enforcement/{target}?lang=fr` answer in
French, and the files written stay the same. (Every target's caveats in both languages: test_french_everywhere.)"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from mdm_request import request
from typer.testing import CliRunner

from api.conftest import bearer, client, sqlite_ws, ws  # noqa: F401
from api.fixtures import Workspace
from interdit import fleet, pipeline
from interdit.cli.main import app
from interdit.enforcement import amapi, intune, jamf, targets
from interdit.errors import ConfigError, EnforcementError
from interdit.testing import dns_request
from test_french_everywhere import faults

IOS_CONFIG = "#microsoft.graph.iosGeneralDeviceConfiguration"


def test_an_unknown_language_is_refused_with_its_fix() -> None:
    with pytest.raises(ConfigError) as e:
        replace(request(), lang="de")
    assert "'de'" in e.value.message and e.value.fix and "--lang fr" in e.value.fix


def test_the_push_plans_read_in_french() -> None:
    en, fr = (targets.get("amapi")().build(replace(request(), lang=lang)) for lang in ("en", "fr"))
    current = {"playStoreMode": "WHITELIST", "applications": [{"packageName": "com.tencent.mm",
                                                               "installType": "AVAILABLE"}]}
    english, _ = amapi.plan(current, en)
    french, changes = amapi.plan(current, fr)
    assert changes == amapi.plan(current, en)[1]  # the same changes, in other words
    assert english[0].startswith("warning: the policy's playStoreMode is WHITELIST")
    assert french[0].startswith("attention\u00a0: le playStoreMode de la politique est WHITELIST")
    assert "com.tencent.mm\u00a0: AVAILABLE -> BLOCKED" in french and "com.tencent.mm: AVAILABLE -> BLOCKED" in english

    en, fr = (targets.get("intune")().build(replace(request(), lang=lang)) for lang in ("en", "fr"))
    allowlist = {"@odata.type": IOS_CONFIG, "id": "c1", "compliantAppListType": "appsInListCompliant",
                 "compliantAppsList": [], "appsVisibilityList": []}
    found = {"ios-device-restrictions.json": allowlist, "ios-compliance-policy.json": {"@odata.type": "#other"}}
    lines = intune.plan(found, fr)[0]
    words = "\n".join(lines)
    assert "création (" in words and "sans affectation" in words and "dans restrictedApps" in words
    assert "compliantAppsList\u00a0: inchangé, son compliantAppListType vaut appsInListCompliant" in words
    assert "ignoré, l'objet trouvé est un #other" in words and "appsVisibilityList\u00a0: + " in words
    labels = tuple(line.split("\u00a0:")[0] for line in lines)
    assert faults(words, labels) == []
    assert len(lines) == len(intune.plan(found, en)[0])

    en, fr = (targets.get("jamf")().build(replace(request(), lang=lang)) for lang in ("en", "fr"))
    [created] = jamf.plan(None, fr)[0]
    assert "\u00a0: création avec 3 identifiants dans blockedAppBundleIDs, portée vide" in created
    assert jamf.plan(None, en)[0] == ["mobiledeviceconfigurationprofiles 'Prohibited apps — Example Department': "
                                      "create with 3 bundle ids in blockedAppBundleIDs, scope empty (not deployed "
                                      "until scoped)"]
    assert faults(created) == []


def test_a_count_takes_the_plural_form_of_its_language() -> None:
    long = ".".join(("a" * 63, "b" * 63, "c" * 63, "d" * 50, "com"))
    for names, english, french in (((long,), "1 name too long", "1 nom trop long"),
                                   ((long, "x" + long[1:]), "2 names too long", "2 noms trop longs")):
        for lang, said in (("en", english), ("fr", french)):
            with pytest.raises(EnforcementError) as e:
                targets.get("rpz")().build(replace(dns_request(names), lang=lang))
            assert e.value.message.startswith(said), e.value.message


def test_an_option_refusal_is_in_the_request_language() -> None:
    for options in ({"playStoreMode": "GREYLIST"}, {"playstoremode": "BLACKLIST"}):
        english, french = [], []
        for lang, into in (("en", english), ("fr", french)):
            with pytest.raises(EnforcementError) as e:
                targets.get("amapi")().build(replace(request(options=options), lang=lang))
            into.extend((e.value.message, e.value.fix or ""))
        assert "is not" in english[0] and "n'est pas" in french[0]
        assert faults("\n".join(french), ("playstoremode", "playStoreMode", "GREYLIST")) == []


@pytest.fixture
def demo_policy(tmp_path: Path) -> list[str]:
    policy = tmp_path / "policy.yaml"
    policy.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    return ["--db", str(tmp_path / "i.db"), "--policy", str(policy)]


def test_interdit_enforce_speaks_french(tmp_path: Path, demo_policy: list[str]) -> None:
    runner = CliRunner(env={"COLUMNS": "400"})  # a line is not wrapped
    out = tmp_path / "out"
    for args in ([*demo_policy, "--lang", "fr", "enforce", "unbound"], [*demo_policy, "enforce", "unbound",
                                                                       "--lang", "fr"]):
        result = runner.invoke(app, [*args, "--out", str(out)])
        assert result.exit_code == 0, result.output
        first = result.output.splitlines()[0]
        assert first.startswith("unbound\u00a0: ") and " familles, " in first and " domaines" in first
        flat = re.sub(r"[ \n]", "", result.output)  # a long path may be folded onto the next lines
        assert f"fichierécrit\u00a0:{out / 'unbound-blocklist.conf'}".replace(" ", "") in flat
        assert result.output.count("mise en garde\u00a0: ") == 6 and "caveat" not in result.output
        assert faults(result.output, (str(out),)) == []
    english = runner.invoke(app, [*demo_policy, "enforce", "unbound", "--out", str(out)]).output
    assert "  wrote " in english and english.count("  caveat: ") == 6 and "mise en garde" not in english

    shown = {lang: json.loads(runner.invoke(app, [*demo_policy, "--lang", lang, "enforce", "rpz", "--format", "json",
                                                  "--out", str(out)]).output) for lang in ("en", "fr")}
    assert shown["en"].keys() == shown["fr"].keys()  # the keys a program reads stay the same
    assert {k: v for k, v in shown["en"].items() if k != "caveats"} == {
        k: v for k, v in shown["fr"].items() if k != "caveats"}
    assert shown["fr"]["caveats"][0].startswith("Le blocage DNS") and len(shown["fr"]["caveats"]) == 6
    assert shown["en"]["caveats"][0].startswith("DNS blocking does not stop")

    refused = runner.invoke(app, [*demo_policy, "--lang", "fr", "enforce", "intune", "--out", str(out),
                                  "--option", "grace_hours=abc"])
    assert refused.exit_code == 2 and "--option grace_hours='abc' n'est pas un nombre entier de 0 à 8760" in \
        refused.output
    bare = runner.invoke(app, [*demo_policy, "--lang", "fr", "enforce", "rpz", "--out", str(out), "--option", "x"])
    assert bare.exit_code == 2 and "--option 'x' n'est pas de la forme CLÉ=VALEUR" in bare.output
    alone = runner.invoke(app, [*demo_policy, "--lang", "fr", "enforce", "rpz", "--out", str(out), "--apply"])
    assert alone.exit_code == 2 and "--mdm-object et --apply demandent --push SOURCE" in alone.output


def test_a_french_policy_gets_french_unless_lang_says_otherwise(tmp_path: Path, demo_policy: list[str]) -> None:
    policy = Path(demo_policy[3])
    policy.write_text(policy.read_text("utf-8").replace("\nlanguage: en\n", "\nlanguage: fr\n"), "utf-8")
    runner = CliRunner(env={"COLUMNS": "400", "INTERDIT_LANG": None})
    out = ["enforce", "hosts", "--out", str(tmp_path / "out")]
    assert "mise en garde\u00a0: Un fichier hosts" in runner.invoke(app, [*demo_policy, *out]).output
    assert "caveat: A hosts file" in runner.invoke(app, [*demo_policy, *out, "--lang", "en"]).output
    assert "caveat: A hosts file" in runner.invoke(app, [*demo_policy, "--lang", "en", *out]).output


def test_the_target_listing_in_french(demo_policy: list[str]) -> None:
    runner = CliRunner(env={"COLUMNS": "400"})  # a line is not wrapped
    listing = runner.invoke(app, [*demo_policy, "--lang", "fr", "enforce"]).output
    assert "--option grace_hours=<entier 0..8760> [par défaut\u00a0: 0]" in listing
    assert "heures avant qu'un appareil non conforme soit bloqué" in listing
    assert faults(listing, ("remove | hide", "remove (action 2")) == []
    listed = json.loads(runner.invoke(app, [*demo_policy, "--lang", "fr", "enforce", "--format", "json"]).output)
    rpz = next(t for t in listed["targets"] if t["name"] == "rpz")
    assert rpz["summary"].startswith("fichier de zone RPZ")
    assert rpz["options"][0]["help"] == "ce que reçoit un nom interdit"


def test_the_api_answers_in_the_language_asked(client: TestClient, ws: Workspace) -> None:  # noqa: F811
    en, fr = (client.post(f"/api/v1/enforcement/unbound{query}", headers=bearer(ws, "admin"), json={}).json()
              for query in ("", "?lang=fr"))
    assert en["files"] == fr["files"] and len(en["caveats"]) == len(fr["caveats"])
    assert fr["caveats"][0].startswith("Le blocage DNS") and en["caveats"][0].startswith("DNS blocking")
    assert all(" / " not in c for c in (*en["caveats"], *fr["caveats"]))
    r = client.post("/api/v1/enforcement/intune?lang=fr", headers=bearer(ws, "admin"),
                    json={"options": {"grace_hour": "3"}})
    assert r.status_code == 422 and "n'est pas une option de intune" in r.json()["detail"]
    assert "vouliez-vous dire grace_hours" in r.json()["fix"]
    r = client.post("/api/v1/enforcement/intune?lang=de", headers=bearer(ws, "admin"), json={})
    assert r.status_code == 422


def test_pipeline_request_carries_the_language() -> None:
    loaded = pipeline.read_policy(Path(fleet.__file__).parent / "data" / "demo-policy.yaml")
    now = datetime(2025, 3, 1, tzinfo=UTC)
    assert pipeline.enforcement_request(loaded, now=now).lang == "en"
    assert pipeline.enforcement_request(loaded, now=now, lang="fr").lang == "fr"
    with pytest.raises(ConfigError):
        pipeline.enforcement_request(loaded, now=now, lang="es")
