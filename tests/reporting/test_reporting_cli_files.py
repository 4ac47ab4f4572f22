"""`interdit report --format pdf|xlsx` and `interdit findings --format csv --separator`, as a user runs them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pypdf
import pytest
from typer.testing import CliRunner

from interdit import fleet, pipeline
from interdit.cli.main import app

runner = CliRunner()
DATES = fleet.DEMO_DATES


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp_path = tmp_path_factory.mktemp("ws")
    spec = fleet.FleetSpec(devices=200, seed=5)
    ws: dict[str, Path] = {"root": tmp_path, "db": tmp_path / "interdit.db", "policy": tmp_path / "policy.yaml"}
    ws["policy"].write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    for n, at in enumerate(DATES):
        d, a, _, _ = fleet.write_snapshot(spec, tmp_path / f"s{n}", n, at)
        code, output = cli(ws, "import", "csv", str(d), str(a), "--source", "mdm", "--at", at.isoformat(), "--quiet")
        assert code == 0, output
    return ws


def cli(ws: dict[str, Path], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", str(ws["db"]), "--policy", str(ws["policy"]), *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("lang,paper,size", [("en", "letter", (612, 792)), ("fr", "a4", (595, 842))])
def test_report_pdf(workspace: dict[str, Path], lang: str, paper: str, size: tuple[int, int]) -> None:
    out = workspace["root"] / f"report-{lang}.pdf"
    code, output = cli(workspace, "report", "--format", "pdf", "--paper", paper, "--lang", lang,
                       "--as-of", DATES[-1].date().isoformat(), "-o", str(out))
    assert code == 0, output
    reader = pypdf.PdfReader(io.BytesIO(out.read_bytes()))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == size
    first = reader.pages[0].extract_text()
    assert f"page 1 {'of' if lang == 'en' else 'de'} {len(reader.pages)}" in first
    organisation = pipeline.read_policy(workspace["policy"]).policy.organisation
    day = "15 March 2023" if lang == "en" else "15 mars 2023"
    for page in reader.pages:  # the running header: the organisation and the date
        assert organisation in page.extract_text() and day in page.extract_text()


def test_report_paper_without_pdf_is_refused(workspace: dict[str, Path]) -> None:
    code, output = cli(workspace, "report", "--format", "html", "--paper", "a4", "-o",
                       str(workspace["root"] / "x.html"))
    assert code != 0 and "--format pdf" in output


def test_report_xlsx(workspace: dict[str, Path]) -> None:
    out = workspace["root"] / "findings.xlsx"
    code, output = cli(workspace, "report", "--format", "xlsx", "--lang", "fr", "-o", str(out),
                       "--as-of", DATES[-1].date().isoformat())
    assert code == 0, output
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref and ws.max_row > 1
    assert [c.value for c in ws[1]][:2] == ["Nom de l’appareil", "Détenteur"]


@pytest.mark.parametrize("args,separator,bom", [
    (["--lang", "fr"], ";", False), (["--lang", "en"], ",", False), (["--lang", "en", "--excel"], ";", True),
    (["--lang", "fr", "--separator", ","], ",", False), (["--lang", "en", "--separator", "tab"], "\t", False),
])
def test_findings_csv_separator(workspace: dict[str, Path], args: list[str], separator: str, bom: bool) -> None:
    result = runner.invoke(app, ["--db", str(workspace["db"]), "--policy", str(workspace["policy"]), "findings",
                                 "--format", "csv", "--as-of", DATES[-1].date().isoformat(), *args])
    assert result.exit_code == 0, result.output
    raw = result.stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf") is bom
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=separator))
    assert rows[0][:3] == ["id", "kind", "state"] and len(rows) > 1
    assert all(len(r) == len(rows[0]) for r in rows)


def test_findings_bad_separator(workspace: dict[str, Path]) -> None:
    code, output = cli(workspace, "findings", "--format", "csv", "--separator", "x")
    assert code != 0 and "--separator" in output


def test_downloads_for_the_dashboard(workspace: dict[str, Path]) -> None:
    """What a download button serves: (content, media type, file name), from the stored fleet at a date."""
    repo = pipeline.open_repository(f"sqlite:///{workspace['db']}")
    loaded = pipeline.read_policy(workspace["policy"])
    as_of = pipeline.as_of_time(DATES[-1].date().isoformat())
    content, media, name = pipeline.downloads.report_download(repo, loaded, "pdf", "fr", as_of=as_of, paper="letter")
    assert (media, name) == ("application/pdf", "report-2023-03-15.pdf")
    assert "page 1 de" in pypdf.PdfReader(io.BytesIO(content)).pages[0].extract_text()
    content, media, name = pipeline.downloads.findings_download(repo, loaded, "xlsx", "en", as_of=as_of)
    assert name == "findings-2023-03-15.xlsx" and media.endswith("spreadsheetml.sheet")
    assert openpyxl.load_workbook(io.BytesIO(content)).worksheets[0].max_row > 1
    for lang, separator in (("fr", ";"), ("en", ",")):
        content, media, name = pipeline.downloads.findings_download(repo, loaded, "csv", lang, as_of=as_of)
        assert media.startswith("text/csv") and name == "findings-2023-03-15.csv"
        assert content.decode("utf-8").splitlines()[0].startswith(f"id{separator}kind{separator}state")
    repo.engine.dispose()
