"""Every word the dashboard shows exists in English and French; the browser's language is honoured."""

from __future__ import annotations

import dataclasses
import re
from importlib.resources import files

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interdit.model import Device, FindingState
from interdit.server.web import i18n


def _template_keys() -> set[str]:
    folder = files("interdit").joinpath("server/web/templates")
    keys: set[str] = set()
    for item in folder.iterdir():
        if item.name.endswith(".html"):
            found = re.findall(r"""\bt\(\s*["']([a-z_.]+)["']""", item.read_text("utf-8"))
            keys |= {k for k in found if not k.endswith(".")}  # "state." + k: checked below
    return keys


def test_every_key_used_in_templates_is_translated() -> None:
    keys = _template_keys() | {f"state.{s.value}" for s in FindingState} | {"granted", "revoked"}
    keys |= {f"verdict.{v}" for v in ("acceptable", "needs_review", "unacceptable")}
    keys |= {f"attr.{f.name}" for f in dataclasses.fields(Device)} | {"attr.valid_from", "attr.valid_to"}
    assert len(keys) > 50
    missing = sorted(k for k in keys if k not in i18n.words("en"))
    assert not missing
    for key in keys:
        en, fr = i18n.words("en")[key], i18n.words("fr")[key]
        assert en.strip() and fr.strip(), key
        assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", fr)), key


@pytest.mark.parametrize(("cookie", "header", "expected"), [
    (None, None, "en"),
    (None, "fr-CA,fr;q=0.9,en;q=0.8", "fr"),
    (None, "en-US,en;q=0.9,fr;q=0.8", "en"),
    (None, "de-DE,fr;q=0.5,en;q=0.4", "fr"),
    (None, "fr;q=0.2,en;q=0.9", "en"),
    (None, "de,es;q=0.5", "en"),
    (None, "fr;q=abc", "en"),
    ("fr", "en", "fr"),
    ("xx", "fr", "fr"),
])
def test_language_choice(cookie: str | None, header: str | None, expected: str) -> None:
    assert i18n.pick_lang(cookie, header) == expected


def test_numbers_are_written_each_way() -> None:
    assert i18n.percent(0.8975, "en") == "89.8%"
    assert i18n.percent(0.8975, "fr") == "89,8\u00a0%"
    assert i18n.number(12345, "en") == "12,345"
    assert i18n.number(12345, "fr") == "12\u00a0345"


@settings(max_examples=100, deadline=None)
@given(cookie=st.one_of(st.none(), st.text(max_size=20)), header=st.one_of(st.none(), st.text(max_size=300)))
def test_any_header_gives_a_known_language(cookie: str | None, header: str | None) -> None:
    assert i18n.pick_lang(cookie, header) in i18n.LANGS


def test_every_refusal_of_the_identity_provider_is_translated() -> None:
    from pathlib import Path

    from interdit.pipeline import accounts
    from interdit.server import oidc
    from interdit.server.web import routes

    source = "".join(Path(m.__file__).read_text("utf-8") for m in (oidc, routes, accounts))
    keys = set(re.findall(r"""OidcRefused\(\d+, "([a-z_.]+)\"""", source))
    keys |= set(re.findall(r"""SignInRefused\("([a-z_.]+)\"""", source))  # refused by the pipeline's sign-in
    keys |= set(re.findall(r"""explain="([a-z_.]+)\"""", source))
    assert {"oidc.no_role", "oidc.disabled", "oidc.failed", "oidc.expired", "oidc.passwords_off"} <= keys
    for key in keys | {"oidc.title", "sign_in_with", "sign_in_again"}:
        en, fr = i18n.words("en")[key], i18n.words("fr")[key]
        assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", fr)) <= {"provider", "username",
                                                                                         "error"}, key
