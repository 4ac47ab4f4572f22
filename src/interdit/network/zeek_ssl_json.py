"""Zeek ssl.log written as JSON: `server_name` (the SNI) is left out when the client sent none."""

from __future__ import annotations

from interdit.network._zeek import ZeekJson
from interdit.network.base import readers


@readers.register("zeek-ssl-json")
class ZeekSslJson(ZeekJson):
    name = "zeek-ssl-json"
    summary = "Zeek ssl.log as JSON lines (server_name is the TLS SNI)"
    example = ('{"_path":"ssl","ts":"2018-03-24T17:15:20.615923Z","uid":"CmC9kY1X0u9nP78KZc",'
               '"id.orig_h":"10.164.94.120","id.orig_p":39611,"version":"TLSv12","server_name":"www.tiktok.com",'
               '"established":true,"ssl_history":"CsxknGIi"}')
    kind = "sni"
    path_name = "ssl"
    name_field = "server_name"
    marker_fields = ("ssl_history", "cipher", "server_name")
