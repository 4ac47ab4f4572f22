"""What a component's tests need, shipped with interdit so a plugin is tested against the same fakes as the
built-in components.

    MdmServer, Reply, Request        a small, faulty MDM server on 127.0.0.1 (pages, 429, 500, bad JSON, drops)
    MockApi                          the same routes and replies answered in-process through httpx.MockTransport
    same_records(a, b)               two reads give the same records (rejections compared by reason)
    check_golden(path, content)      an output is its golden file (INTERDIT_UPDATE_GOLDEN=1 rewrites it)
    check_payload(payload, folder)   every file of an enforcement payload, and its caveats, are golden files
    dns_request(), mdm_request()     fixed requests for an enforcement target; request_for(kind) picks one
    report_data()                    a fixed ReportData with findings in every state, to render a report format
    sample_app_report(), broken_app_report()   analysis reports to render an analysis output
    install_plugin(), run_python()   a distribution with `interdit.plugins` entry points, seen by a fresh process
    code_files(markdown)             the files a page's code blocks declare (`# file: PATH`), to test a guide

Nothing in interdit imports this package: it is for tests only.
"""

from interdit.testing.analysis import broken_app_report, sample_app_report
from interdit.testing.enforcement import DOMAINS, dns_request, mdm_catalogue, mdm_request, request_for
from interdit.testing.golden import check_golden, check_payload, updating
from interdit.testing.mdm_server import MdmServer, Reply, Request, same_records
from interdit.testing.plugins import code_files, install_plugin, run_python
from interdit.testing.reports import report_data
from interdit.testing.transport import MockApi

__all__ = [
    "DOMAINS",
    "MdmServer",
    "MockApi",
    "Reply",
    "Request",
    "broken_app_report",
    "check_golden",
    "check_payload",
    "code_files",
    "dns_request",
    "install_plugin",
    "mdm_catalogue",
    "mdm_request",
    "report_data",
    "request_for",
    "run_python",
    "same_records",
    "sample_app_report",
    "updating",
]
