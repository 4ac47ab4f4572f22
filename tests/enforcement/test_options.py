"""Every target's `--option`s: declared on the target, checked in one place, listed, and documented.

The cases are drawn from the registry and the declarations, so a new target or option is covered without
editing this file.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from mdm_request import request
from typer.testing import CliRunner

from interdit import fleet
from interdit.cli.main import app
from interdit.enforcement.base import Option, Payload, targets
from interdit.errors import EnforcementError

DOCS = Path(__file__).resolve().parents[2] / "docs"
OPTIONS = [(name, o) for name, target in targets.items() for o in target.options]


def build(name: str, lang: str = "en", **options: str) -> Payload:
    return targets.get(name)().build(replace(request(options=options), lang=lang))


def valid_values(o: Option) -> list[str]:
    """Values the declaration says are good: every allowed value, the default, the smallest number."""
    if o.allowed:
        return list(o.allowed)
    if o.kind == "integer":
        return [str(o.minimum), str(o.maximum), *([o.default] if o.default else [])]
    assert o.default is not None, f"{o.name}: a text option without a default needs a valid value here"
    return [o.default]


def _settings(name: str) -> list[dict[str, str]]:
    """Every combination of the target's choice options (policy=, mode=...): the settings an option may need."""
    choices = [[(o.name, v) for v in o.allowed] for o in targets.get(name).options if o.kind == "choice"]
    return [dict(combo) for combo in itertools.product(*choices)]


def test_every_target_declares_its_options_once_with_help() -> None:
    assert OPTIONS, "no target declares an option"
    for name, target in targets.items():
        names = [o.name for o in target.options]
        assert len(names) == len(set(names)), f"{name} declares an option twice: {names}"
        for o in target.options:
            assert o.help and bool(o.allowed) == (o.kind == "choice"), (name, o)
            assert o.default is None or o.convert(o.default, name) == o.default, (name, o)


@pytest.mark.parametrize(("name", "option"), OPTIONS, ids=[f"{n}-{o.name}" for n, o in OPTIONS])
def test_every_declared_option_is_accepted_with_every_valid_value(name: str, option: Option) -> None:
    for value in valid_values(option):
        refusals = []
        for setting in _settings(name):
            if option.name in setting:
                continue
            try:
                build(name, **setting, **{option.name: value})
                break
            except EnforcementError as e:  # it does not apply with this setting: try the next one
                assert "does not use it with these settings" in e.message, e
                refusals.append(setting)
        else:
            if option.kind == "choice":
                build(name, **{option.name: value})
            else:
                pytest.fail(f"{name} --option {option.name}={value} is refused with every setting: {refusals}")


def _typo(name: str) -> str:
    return name[:-1] if len(name) > 3 else name + "x"


@pytest.mark.parametrize(("name", "option"), OPTIONS, ids=[f"{n}-{o.name}" for n, o in OPTIONS])
def test_a_misspelt_option_is_refused_with_the_declared_name(name: str, option: Option) -> None:
    for typo in (_typo(option.name), option.name.upper(), option.name.replace("_", "-") + "s"):
        if typo in {o.name for o in targets.get(name).options}:
            continue
        with pytest.raises(EnforcementError) as e:
            build(name, **{typo: "1"})
        with pytest.raises(EnforcementError) as fr:
            build(name, "fr", **{typo: "1"})
        assert e.value.message == f"--option {typo}='1' is not an option of {name}"
        assert fr.value.message == f"--option {typo}='1' n'est pas une option de {name}"
        assert e.value.fix and f"did you mean {option.name}?" in e.value.fix and "vouliez" not in e.value.fix
        assert fr.value.fix and f"vouliez-vous dire {option.name}\u202f?" in fr.value.fix
        assert e.value.where == fr.value.where == f"enforce {name}"


@pytest.mark.parametrize("name", targets.names())
def test_an_unknown_option_is_refused_by_every_target(name: str) -> None:
    with pytest.raises(EnforcementError) as e:
        build(name, colour="blue")
    assert "--option colour='blue' is not an option of" in e.value.message
    assert e.value.fix and "did you mean" not in e.value.fix
    assert all(o.name in e.value.fix for o in targets.get(name).options)


BAD = {"integer": ["abc", "-1", "1.5", "٣", "99999999999999"], "choice": ["explode", ""],
       "ip": ["10.0.0", "fe80::1%eth0"], "ipv4": ["::1", "256.0.0.1"], "ipv6": ["10.0.0.1", "::g"]}
TYPED = [(n, o) for n, o in OPTIONS if o.kind in BAD or o.pattern]


@pytest.mark.parametrize(("name", "option"), TYPED, ids=[f"{n}-{o.name}" for n, o in TYPED])
def test_an_ill_typed_value_is_refused_naming_the_option_the_value_and_what_is_expected(name: str,
                                                                                     option: Option) -> None:
    for value in BAD.get(option.kind, ["has space", "no-dot", "a..b"]):
        with pytest.raises(EnforcementError) as e:
            build(name, **{option.name: value})
        with pytest.raises(EnforcementError) as fr:
            build(name, "fr", **{option.name: value})
        assert f"--option {option.name}={value!r}" in e.value.message, e.value
        assert f"--option {option.name}={value!r} n'est pas " in fr.value.message, fr.value
        assert "\n" not in e.value.message and e.value.fix and fr.value.fix and fr.value.fix != e.value.fix
        assert " / " not in e.value.message + e.value.fix + fr.value.message + fr.value.fix
        if option.kind == "choice":
            assert all(a in e.value.fix for a in option.allowed)
        elif option.kind == "integer":
            assert f"from {option.minimum} to {option.maximum}" in e.value.message


def test_values_are_read_in_their_declared_spelling() -> None:
    assert build("amapi", playStoreMode="whitelist").caveats[0].startswith("playStoreMode is WHITELIST")
    assert '"gracePeriodHours": 12' in str(build("intune", grace_hours="12").files["ios-compliance-policy.json"])
    assert '"action": 0' in str(build("headwind", action="HIDE").files["configuration-applications.json"])


def test_the_cli_refuses_a_typo_and_a_bad_value_with_exit_2_and_lists_the_options(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    base = ["--db", str(tmp_path / "i.db"), "--policy", str(policy), "enforce"]
    runner = CliRunner()
    for option, expected in (("grace_hours=abc", "is not a whole number from 0 to 8760"),
                             ("grace_hour=3", "did you mean grace_hours?")):
        result = runner.invoke(app, [*base, "intune", "--out", str(tmp_path / "out"), "--option", option])
        assert result.exit_code == 2, result.output
        assert expected in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()  # nothing written
    listing = runner.invoke(app, [*base, "--format", "json"])
    assert listing.exit_code == 0, listing.output
    listed = {t["name"]: [o["name"] for o in t["options"]] for t in json.loads(listing.output)["targets"]}
    assert listed == {n: [o.name for o in t.options] for n, t in targets.items()}
    text = runner.invoke(app, base).output
    assert "--option grace_hours=<integer 0..8760> [default: 0]" in text


def test_every_option_of_every_target_is_documented() -> None:
    """docs/enforcement.md has a row per (target, option), giving its default and allowed values."""
    rows = {}
    for line in (DOCS / "enforcement.md").read_text("utf-8").splitlines():
        m = re.match(r"\| `([a-z-]+)` \| `([A-Za-z0-9_]+)=` \|(.*)\|$", line)
        if m:
            rows[(m.group(1), m.group(2))] = m.group(3)
    declared = {(n, o.name): o for n, o in OPTIONS}
    assert set(rows) == set(declared), "documented but not declared, or declared but not documented"
    for key, o in declared.items():
        assert all(f"`{a}`" in rows[key] for a in o.allowed), key
        assert o.default is None or f"`{o.default}`" in rows[key], key
