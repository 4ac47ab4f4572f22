"""docs/guides/add-a-report-format.md, walked as written: its file installed as a plugin is registered and listed
by `interdit formats`; interdit's golden and docs tests fail for it until its golden files and docs line exist;
its own test fails until its golden files are made."""

from __future__ import annotations

import tomllib
from pathlib import Path

from interdit.testing import code_files, install_plugin, run_python

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guides" / "add-a-report-format.md"


def pytest_in(site: Path, cwd: Path, *args: str, update: bool = False) -> tuple[int, str]:
    code = f"import sys, pytest; sys.exit(pytest.main({list(args)!r}))"
    result = run_python(site, code, cwd=cwd, env={"INTERDIT_UPDATE_GOLDEN": "1" if update else "0"})
    return result.returncode, result.stdout + result.stderr


def test_the_guide_adds_a_report_format_in_one_file(tmp_path: Path) -> None:
    files = code_files(GUIDE)
    assert set(files) == {"acme_interdit/markdown.py", "tests/test_markdown.py", "pyproject.toml"}
    entry_points = tomllib.loads(files["pyproject.toml"])["project"]["entry-points"]["interdit.plugins"]
    site = install_plugin(tmp_path / "site", "acme-interdit", {
        "acme_interdit/__init__.py": "", "acme_interdit/markdown.py": files["acme_interdit/markdown.py"]},
        entry_points)

    shown = run_python(site, "\n".join((
        "from interdit.reporting import formats",
        "from interdit.testing import report_data",
        "print(formats.get('markdown')().render(report_data(), 'fr'), end='')",
        "import sys; sys.argv = ['interdit', 'formats']",
        "from interdit.cli.main import app",
        "app()",
    )))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("# Department of Examples\n\n15 mars 2023\n"), shown.stdout[:200]
    assert "- infraction : 2\n" in shown.stdout.replace("\u00a0", " ").replace("\u202f", " ")
    assert "markdown" in shown.stdout.split("15 mars 2023", 1)[1]  # `interdit formats` lists it

    # inside interdit: the registry-driven golden test and the docs test ask for its golden files and docs line
    code, output = pytest_in(site, ROOT, "-q", "-p", "no:cacheprovider", "tests/reporting/test_reporting_golden.py",
                             "tests/test_docs.py::test_every_registered_component_is_documented")
    assert code == 1, output
    assert "no golden file" in output and "markdown.en.md" in output and "markdown.fr.md" in output
    assert "['markdown']" in output  # the docs test names what to document
    assert output.count("FAILED") == 4, output  # markdown in en and fr, the orphan check, the docs: nothing else

    # in its own package: its test fails until its golden files exist, then holds
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_markdown.py").write_text(files["tests/test_markdown.py"], "utf-8")
    assert pytest_in(site, project, "-q", "-p", "no:cacheprovider", "tests")[0] == 1
    code, output = pytest_in(site, project, "-q", "-p", "no:cacheprovider", "tests", update=True)
    assert code == 0, output
    golden = (project / "tests" / "golden" / "markdown.en.md").read_text("utf-8")
    assert golden.startswith("# Department of Examples\n\n15 March 2023\n")
