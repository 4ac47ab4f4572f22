"""Suricata eve.json: `dns` events (v1/v2 `dns.rrname`, v3 `dns.queries[]`) and `tls` events (`tls.sni`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from interdit.network.base import Event, LineError, LineReader, iso, json_object, readers


@readers.register("suricata")
class Suricata(LineReader):
    name = "suricata"
    summary = "Suricata eve.json dns (v1, v2 and v3 layouts) and tls events"
    example = ('{"timestamp":"2019-08-22T23:48:27.924120+0000","event_type":"dns","src_ip":"10.0.2.15",'
               '"src_port":46686,"dest_ip":"10.0.2.3","dest_port":53,"proto":"UDP",'
               '"dns":{"version":3,"type":"request","id":16000,"queries":[{"rrname":"www.tiktok.com","rrtype":"A"}]}}')
    kind = "dns"

    def sniff(self, line: bytes) -> bool:
        return line.startswith(b"{") and b'"event_type"' in line

    def parse(self, line: bytes) -> Event | None:
        obj = json_object(line)
        if obj is None:
            return None
        kind = obj.get("event_type")
        if kind == "dns":
            return self._dns(obj)
        if kind == "tls":
            tls = obj.get("tls")
            sni = tls.get("sni") if isinstance(tls, dict) else None
            if not isinstance(sni, str):
                return None
            return Event(sni, self._src(obj), self._ts(obj), "sni")
        return None

    def _dns(self, obj: dict[str, Any]) -> Event | None:
        dns = obj.get("dns")
        if not isinstance(dns, dict):
            raise LineError("a dns event without a dns object")
        kind = dns.get("type")
        if kind == "query":  # v1 / v2
            name, qtype = dns.get("rrname"), dns.get("rrtype", "")
        elif kind == "request":  # v3
            queries = dns.get("queries")
            if not isinstance(queries, list) or not queries or not isinstance(queries[0], dict):
                raise LineError("a v3 dns request without queries[]")
            name, qtype = queries[0].get("rrname"), queries[0].get("rrtype", "")
        else:
            return None  # answers and responses: the client is the destination, and the query was logged
        if not isinstance(name, str):
            raise LineError("a dns query without a text rrname")
        return Event(name, self._src(obj), self._ts(obj), "dns", str(qtype))

    @staticmethod
    def _src(obj: dict[str, Any]) -> str:
        src = obj.get("src_ip")
        if not isinstance(src, str):
            raise LineError("an event without src_ip")
        return src

    @staticmethod
    def _ts(obj: dict[str, Any]) -> str:
        ts = obj.get("timestamp")
        if not isinstance(ts, str):
            raise LineError("an event without a timestamp")
        return ts

    def when(self, stamp: str) -> datetime:
        return iso(stamp)
