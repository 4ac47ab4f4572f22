"""Zeek dns.log written as JSON (`LogAscii::use_json=T` or the json-streaming-logs package)."""

from __future__ import annotations

from interdit.network._zeek import ZeekJson
from interdit.network.base import readers


@readers.register("zeek-dns-json")
class ZeekDnsJson(ZeekJson):
    name = "zeek-dns-json"
    summary = "Zeek dns.log as JSON lines"
    example = ('{"_path":"dns","ts":"2018-03-24T17:15:20.865716Z","uid":"CqKst53mF3det3eDV9",'
               '"id.orig_h":"10.47.1.100","id.orig_p":41772,"query":"ise.wrccdc.org","qtype_name":"A",'
               '"rcode_name":"NOERROR","answers":["ise.wrccdc.cpp.edu","134.71.3.16"]}')
    kind = "dns"
    path_name = "dns"
    name_field = "query"
    marker_fields = ("qtype_name", "trans_id", "query")
    answers_field = "answers"
