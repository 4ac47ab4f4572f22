"""docs/guides/add-an-analysis-output.md, walked as written: its file installed as a plugin is registered, listed
by `interdit formats` and rendered by the pipeline; interdit's golden and docs tests fail for it until its golden
files and docs line exist; its own test fails until its golden files are made."""

from __future__ import annotations

import tomllib
from pathlib import Path

from interdit.testing import code_files, install_plugin, run_python

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guides" / "add-an-analysis-output.md"


def pytest_in(site: Path, cwd: Path, *args: str, update: bool = False) -> tuple[int, str]:
    code = f"import sys, pytest; sys.exit(pytest.main({list(args)!r}))"
    result = run_python(site, code, cwd=cwd, env={"INTERDIT_UPDATE_GOLDEN": "1" if update else "0"})
    return result.returncode, result.stdout + result.stderr


def test_the_guide_adds_an_analysis_output_in_one_file(tmp_path: Path) -> None:
    files = code_files(GUIDE)
    assert set(files) == {"acme_interdit/verdicts_csv.py", "tests/test_verdicts_csv.py", "pyproject.toml"}
    entry_points = tomllib.loads(files["pyproject.toml"])["project"]["entry-points"]["interdit.plugins"]
    site = install_plugin(tmp_path / "site", "acme-interdit", {
        "acme_interdit/__init__.py": "", "acme_interdit/verdicts_csv.py": files["acme_interdit/verdicts_csv.py"]},
        entry_points)

    shown = run_python(site, "\n".join((
        "from interdit import pipeline",
        "from interdit.testing import broken_app_report, sample_app_report",
        "print(pipeline.render_analysis([sample_app_report(), broken_app_report()], 'verdicts-csv', 'fr'), end='')",
        "import sys; sys.argv = ['interdit', 'formats']",
        "from interdit.cli.main import app",
        "app()",
    )))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "file,package,version,Verdict,score"
    assert lines[1].startswith("share.apk,org.example.share,4.2 <beta>,") and lines[2].startswith("junk.apk,,,")
    assert "verdicts-csv" in shown.stdout.split("APK analysis outputs:")[1]  # `interdit formats` lists it

    # inside interdit: the registry-driven golden test and the docs test ask for its golden files and docs line
    code, output = pytest_in(site, ROOT, "-q", "-p", "no:cacheprovider", "-k", "golden or documented",
                             "tests/analysis/test_analysis_outputs.py",
                             "tests/test_docs.py::test_every_registered_component_is_documented")
    assert code == 1, output
    assert "sample.en.csv" in output and "sample.fr.csv" in output
    assert "['verdicts-csv']" in output  # the docs test names what to document
    assert output.count("FAILED") == 3, output  # its golden files in en and fr, the docs: nothing else

    # in its own package: its test fails until its golden files exist
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_verdicts_csv.py").write_text(files["tests/test_verdicts_csv.py"], "utf-8")
    assert pytest_in(site, project, "-q", "-p", "no:cacheprovider", "tests")[0] == 1
    code, output = pytest_in(site, project, "-q", "-p", "no:cacheprovider", "tests", update=True)
    assert code == 0, output
    golden = (project / "tests" / "golden" / "verdicts.en.csv").read_bytes()
    assert golden.startswith(b"file,package,version,Verdict,score\r\nshare.apk,")
