"""Zeek ssl.log, tab-separated: `server_name` is the TLS SNI (`-` when the client sent none)."""

from __future__ import annotations

from interdit.network._zeek import ZeekTsv
from interdit.network.base import readers


@readers.register("zeek-ssl")
class ZeekSsl(ZeekTsv):
    name = "zeek-ssl"
    summary = "Zeek ssl.log (TSV; server_name is the TLS SNI)"
    example = ("1521911720.615923\tCmC9kY1X0u9nP78KZc\t10.164.94.120\t39611\t10.47.3.200\t443\tTLSv12\t"
               "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA\tsecp256r1\twww.tiktok.com\tF\t-\th2\tT\tCsxknGIi\t-\t(empty)\t-\t-")
    kind = "sni"
    path_name = "ssl"
    name_field = "server_name"
