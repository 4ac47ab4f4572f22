"""Zeek dns.log, tab-separated with a `#fields` header (`query` is the name, `id.orig_h` the client)."""

from __future__ import annotations

from interdit.network._zeek import ZeekTsv
from interdit.network.base import readers


@readers.register("zeek-dns")
class ZeekDns(ZeekTsv):
    name = "zeek-dns"
    summary = "Zeek dns.log (TSV with #fields header)"
    example = ("1521911720.865716\tCqKst53mF3det3eDV9\t10.47.1.100\t41772\t10.0.0.100\t53\tudp\t36329\t0.000870\t"
               "ise.wrccdc.org\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\tise.wrccdc.cpp.edu,134.71.3.16\t"
               "2230.000000,41830.000000\tF")
    kind = "dns"
    path_name = "dns"
    name_field = "query"
    answers_field = "answers"
