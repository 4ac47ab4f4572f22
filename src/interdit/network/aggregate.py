"""Sightings: matched requests aggregated per device (or address), family, day, evidence strength and format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from interdit.model import Sighting

# family, day (ISO), device source, device id, address when unattributed, weak, source format
Key = tuple[str, str, str, str, str, bool, str]


@dataclass(slots=True)
class Group:
    first: datetime
    last: datetime
    count: int
    client: str
    example: str


class Aggregator:
    def __init__(self) -> None:
        self.groups: dict[Key, Group] = {}

    def add(self, family: str, when: datetime, client: str, device: tuple[str, str] | None, name: str,
            weak: bool, fmt: str) -> None:
        key: Key = (family, when.date().isoformat(), device[0] if device else "", device[1] if device else "",
                    "" if device else client, weak, fmt)
        g = self.groups.get(key)
        if g is None:
            self.groups[key] = Group(when, when, 1, client, name)
            return
        g.count += 1
        if when < g.first:
            g.first = when
            g.client = client
            g.example = name
        if when > g.last:
            g.last = when

    def merge(self, other: Aggregator) -> None:
        for key, o in other.groups.items():
            g = self.groups.get(key)
            if g is None:
                self.groups[key] = Group(o.first, o.last, o.count, o.client, o.example)
                continue
            g.count += o.count
            if o.first < g.first:
                g.first, g.client, g.example = o.first, o.client, o.example
            g.last = max(g.last, o.last)

    def sightings(self) -> list[Sighting]:
        out = []
        for (family, day, dsrc, did, _addr, weak, fmt), g in self.groups.items():
            out.append(Sighting(family=family, day=datetime.fromisoformat(day).date(), client=g.client,
                                first=g.first, last=g.last, count=g.count, source_format=fmt,
                                example_name=g.example, device_source=dsrc or None, device_id=did or None,
                                weak=weak))
        out.sort(key=lambda s: (s.day, s.family, s.device_source or "", s.device_id or "", s.client, s.weak))
        return out
