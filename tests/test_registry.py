"""The registry: a component's key is its name, written once; a taken name is refused; built-ins load on first
read (sub-packages too, machinery modules not); plugins come from the `interdit.plugins` entry points of an
installed distribution, and a plugin that takes a built-in's name is refused with the plugin named."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from interdit.errors import ConfigError
from interdit.registry import Registry
from interdit.testing import install_plugin, run_python

REPORT_FORMAT = '''
from interdit.reporting import ReportData, formats


@formats.register
class Acme:
    name = "acme"
    extension = "txt"
    media_type = "text/plain; charset=utf-8"

    def render(self, data: ReportData, lang: str) -> str:
        return f"{data.organisation}: {len(data.findings)} findings ({lang})\\n"
'''

TARGET = '''
from interdit.enforcement import EnforcementRequest, Option, Payload, checks_options, domains, targets


@targets.register
class AcmeDns:
    name = "acme-dns"
    kind = "dns"
    summary = "one blocked name a line"
    options: tuple[Option, ...] = ()

    @checks_options
    def build(self, request: EnforcementRequest) -> Payload:
        return Payload(self.name, {"acme.txt": "".join(f"{d}\\n" for d in domains(request))})
'''

DUPLICATE = '''
from interdit.reporting import formats


@formats.register
class NotTheCsv:
    name = "csv"
    extension = "csv"
    media_type = "text/csv"

    def render(self, data, lang):
        return ""
'''


def test_the_key_comes_from_the_name_or_is_given() -> None:
    things: Registry[type] = Registry("thing")

    @things.register
    class Alpha:
        name = "alpha"

    @things.register("beta-key")
    class Beta:
        name = "beta"

    assert things.names() == ["alpha", "beta-key"] and things.get("alpha") is Alpha and "beta-key" in things
    assert things.register(Alpha) is Alpha  # registering the same class again is harmless


def test_a_taken_name_is_refused_and_a_nameless_component_too() -> None:
    things: Registry[type] = Registry("thing")

    @things.register
    class First:
        name = "same"

    class Second:
        name = "same"

    with pytest.raises(ConfigError, match="two thing components are both named 'same'") as e:
        things.register(Second)
    assert e.value.fix == "rename one of them" and things.get("same") is First

    class Nameless:
        pass

    with pytest.raises(ConfigError, match="has no name") as nameless:
        things.register(Nameless)
    assert nameless.value.fix and "register(" in nameless.value.fix
    with pytest.raises(ConfigError, match="unknown thing 'nope'") as unknown:
        things.get("nope")
    assert unknown.value.fix == "use one of: same"


def test_builtins_load_on_first_read_with_sub_packages_and_without_machinery(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "toy_components"
    (package / "nested").mkdir(parents=True)
    (package / "__init__.py").write_text("from registry_home import things\n")
    (package / "one.py").write_text("from toy_components import things\n\n@things.register\nclass One:\n"
                                    "    name = 'one'\n")
    (package / "nested" / "__init__.py").write_text("")
    (package / "nested" / "two.py").write_text("from toy_components import things\n\n@things.register\nclass Two:\n"
                                               "    name = 'two'\n")
    (package / "_machinery.py").write_text("raise RuntimeError('machinery is not a component')\n")
    (tmp_path / "registry_home.py").write_text("from interdit.registry import Registry\n\n"
                                               "things = Registry('thing', builtins='toy_components')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import registry_home

    assert "toy_components.one" not in sys.modules  # nothing happens at import time
    assert registry_home.things.names() == ["one", "two"]
    assert "toy_components._machinery" not in sys.modules


def test_a_plugin_installed_through_the_entry_point_is_registered(tmp_path: Path) -> None:
    site = install_plugin(tmp_path, "acme-interdit", {
        "acme_interdit/__init__.py": "", "acme_interdit/report.py": REPORT_FORMAT, "acme_interdit/dns.py": TARGET,
    }, {"reporting.acme": "acme_interdit.report", "enforcement.acme": "acme_interdit.dns"})
    result = run_python(site, "\n".join((
        "from interdit.enforcement import targets",
        "from interdit.reporting import formats",
        "from interdit.testing import dns_request, report_data",
        "print(sorted(formats.names()))",
        "print(formats.get('acme')().render(report_data(), 'fr'), end='')",
        "print(sorted(targets.get('acme-dns')().build(dns_request()).files['acme.txt'].split()))",
        "print('table' in formats, 'unbound' in targets)",
    )))
    assert result.returncode == 0, result.stderr
    names, rendered, blocked, builtins = result.stdout.splitlines()
    assert "'acme'" in names and "'html'" in names
    assert rendered == "Department of Examples: 9 findings (fr)"
    punycode = "bücher-tiktok.example".encode("idna").decode()
    assert blocked == str(sorted(("musical.ly", "tiktok.com", "tiktokcdn.com", "tiktokv.com", punycode)))
    assert builtins == "True True"  # the built-ins are still there beside the plugin


def test_a_plugin_that_takes_a_builtin_name_is_refused_naming_the_plugin(tmp_path: Path) -> None:
    site = install_plugin(tmp_path, "acme-dup", {"acme_dup.py": DUPLICATE}, {"reporting.dup": "acme_dup"})
    result = run_python(site, "from interdit.reporting import formats\nformats.names()")
    assert result.returncode != 0
    assert "two reporting components are both named 'csv'" in result.stderr
    assert "plugin reporting.dup = acme_dup" in result.stderr and "uninstall the plugin" in result.stderr


def test_an_entry_point_of_another_stage_is_not_loaded(tmp_path: Path) -> None:
    site = install_plugin(tmp_path, "acme-other", {"acme_other.py": "raise SystemExit('loaded')\n"},
                          {"network.other": "acme_other"})
    result = run_python(site, "from interdit.reporting import formats\nprint(len(formats.names()) > 0)")
    assert result.returncode == 0 and result.stdout.strip() == "True", result.stderr
