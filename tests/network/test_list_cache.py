"""A long domain list is read once and kept in the user's cache: what comes back is what was read."""

from __future__ import annotations

from pathlib import Path

import pytest

from interdit.errors import ConfigError, InputError
from interdit.network import prefilter as prefiltermod
from interdit.network.fastpath import prefilter_for
from interdit.network.match import DomainMatcher, load_domain_list, read_domain_list
from interdit.pipeline import network as pipeline_network


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(prefiltermod, "CACHE_FROM", 3)
    return tmp_path / "cache" / "interdit" / "network"


def _list(path: Path, extra: str = "") -> Path:
    path.write_text("# banned\ntiktok.com tiktok\nTikTokV.com.\ttiktok\ndeepseek.com deepseek\n"
                    "cdn.akamaized.net tiktok\nwechat.com\n" + extra)
    return path


def _same(a: DomainMatcher, b: DomainMatcher) -> None:
    assert (a.table, a.refused, a.keys, a.bkeys, a.btable) == (b.table, b.refused, b.keys, b.bkeys, b.btable)


def test_the_cached_list_is_the_list_read(tmp_path: Path, cache: Path) -> None:
    f = _list(tmp_path / "domains.txt")
    never = ["akamaized.net"]
    fresh = DomainMatcher(read_domain_list(f), never=never)
    first = load_domain_list(f, never=never)
    assert [p.name.startswith("list-") for p in cache.iterdir()] == [True]
    again = load_domain_list(f, never=never)
    _same(fresh, first)
    _same(fresh, again)
    assert again.refused == ["cdn.akamaized.net"] and again.match("WWW.TIKTOKV.COM.") == "tiktok"
    assert again.match("nottiktok.com") is None and again.family_of("wechat.com") == "listed"


def test_a_changed_list_or_never_list_is_read_again(tmp_path: Path, cache: Path) -> None:
    f = _list(tmp_path / "domains.txt")
    load_domain_list(f)
    _list(f, "capcut.com capcut\n")
    assert load_domain_list(f).match("www.capcut.com") == "capcut"
    assert load_domain_list(f, never=["akamaized.net"]).match("cdn.akamaized.net") is None
    assert load_domain_list(f).match("cdn.akamaized.net") == "tiktok"
    assert load_domain_list(f, "other").family_of("wechat.com") == "other"
    assert len(list(cache.glob("list-*.marshal"))) == 4


def test_a_damaged_cache_is_never_trusted(tmp_path: Path, cache: Path) -> None:
    f = _list(tmp_path / "domains.txt")
    load_domain_list(f)
    (kept,) = cache.glob("list-*.marshal")
    for junk in (b"", b"garbage", kept.read_bytes()[:100]):
        kept.write_bytes(junk)
        _same(load_domain_list(f), DomainMatcher(read_domain_list(f)))
    import marshal

    kept.write_bytes(marshal.dumps((99, "d", {}, [], frozenset(), frozenset(), {})))  # another layout
    assert load_domain_list(f).match("tiktok.com") == "tiktok"


def test_bad_lists_are_errors_naming_the_line_and_are_not_kept(tmp_path: Path, cache: Path) -> None:
    f = _list(tmp_path / "domains.txt", "not a domain here\n")
    with pytest.raises(InputError, match=r"domains.txt:7"):
        load_domain_list(f)
    assert not cache.exists() or not list(cache.glob("list-*"))
    with pytest.raises(InputError, match="no domain list"):
        load_domain_list(tmp_path / "missing.txt")


@pytest.mark.skipif(not prefiltermod.available(), reason="hyperscan is not installed (Linux x86_64 only)")
def test_the_prefilter_of_a_cached_list_is_found_by_its_digest(tmp_path: Path, cache: Path) -> None:
    f = _list(tmp_path / "domains.txt")
    pre = prefilter_for(load_domain_list(f))
    assert pre is not None
    restored = load_domain_list(f)
    assert restored.digest is not None
    again = prefilter_for(restored)
    assert len(list(cache.glob("zeek-*.hsdb"))) == 1
    # the same domains from another road (a mapping, another never list) find the same compiled patterns
    assert prefilter_for(DomainMatcher(read_domain_list(f))) is not None
    assert prefilter_for(load_domain_list(f, never=["example.org"])) is not None
    assert len(list(cache.glob("zeek-*.hsdb"))) == 1 and len(list(cache.glob("list-*.marshal"))) == 2
    assert prefilter_for(load_domain_list(f, never=["akamaized.net"])) is not None  # fewer domains
    assert len(list(cache.glob("zeek-*.hsdb"))) == 2
    block = b"x\twww.TIKTOK.com\ty\nplain\tline\nq\tdeepseek.com.\n"
    assert again is not None and again.lines(block) == pre.lines(block) == [0, 30]


def test_scan_logs_takes_a_list_file(tmp_path: Path, cache: Path) -> None:
    f = _list(tmp_path / "domains.txt")
    log = tmp_path / "dnsmasq.log"
    log.write_text("Mar  1 10:00:00 dnsmasq[1]: query[A] www.tiktok.com from 10.0.0.5\n"
                   "Mar  1 10:00:01 dnsmasq[1]: query[A] nottiktok.com from 10.0.0.5\n")
    r = pipeline_network.scan_logs([log], domains_file=f, tz="UTC")
    assert (r.read, r.matched) == (2, 1) and [s.family for s in r.sightings] == ["tiktok"]
    with pytest.raises(ConfigError):
        pipeline_network.scan_logs([log], domains_file=f, families_domains={"tiktok.com": "tiktok"})
    with pytest.raises(ConfigError):
        pipeline_network.scan_logs([log])
