"""The domain matcher: whole labels, any parent domain, normalisation; never substring."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interdit.network.match import DomainMatcher, minimal_domains, normalise

LIST = {"tiktok.com": "tiktok", "tiktokv.com": "tiktok", "deepseek.com": "deepseek", "xn--tiktk-mua.com": "tiktok"}


@pytest.mark.parametrize("name,family", [
    ("tiktok.com", "tiktok"),
    ("www.tiktok.com", "tiktok"),
    ("WWW.TikTok.COM.", "tiktok"),
    ("  api16-normal-c-useast1a.tiktokv.com  ", "tiktok"),
    ("a.b.c.d.e.f.tiktokv.com", "tiktok"),
    ("(3)www(6)tiktok(3)com(0)", "tiktok"),
    ("chat.deepseek.com", "deepseek"),
    ("tiktök.com", "tiktok"),  # IDN -> punycode
    ("nottiktok.com", None),
    ("tiktok.com.evil.example", None),
    ("tiktokv.co", None),
    ("tiktok", None),
    ("com", None),
    ("mytiktokv.com", None),
    ("tiktok-com.example", None),
    ("", None),
    (".", None),
    ("a..tiktok.com", None),
    ("(3)www(6)tiktok(3)co", None),  # truncated wire form
])
def test_whole_label_semantics(name: str, family: str | None) -> None:
    assert DomainMatcher(LIST).match(name) == family


def test_normalise() -> None:
    assert normalise("WWW.Example.COM.") == "www.example.com"
    assert normalise("www.example.com..") is None  # only one trailing dot goes
    assert normalise("(5)login(4)live(3)com(0)") == "login.live.com"
    assert normalise("bücher.example") == "xn--bcher-kva.example"
    assert normalise("a" * 254) is None
    assert normalise(("a" * 60 + ".") * 4 + "com") is not None
    assert normalise(("a" * 63 + ".") * 4 + "com") is None  # 259 characters


def test_never_block_hosts_and_invalid_entries_are_dropped() -> None:
    m = DomainMatcher({"akamaized.net": "tiktok", "tiktok.akamaized.net": "tiktok", "tiktok.com": "tiktok",
                       "bad name.com": "x", "*.wild.com": "x"}, never=["akamaized.net"])
    assert m.match("p16.tiktok.akamaized.net") is None
    assert m.match("m.tiktok.com") == "tiktok"
    assert sorted(m.refused) == ["*.wild.com", "akamaized.net", "bad name.com", "tiktok.akamaized.net"]


def test_minimal_domains_drop_covered_children() -> None:
    assert minimal_domains(["www.tiktok.com", "TikTok.com", "tiktokv.com", "api.tiktokv.com"]) == \
        ["tiktok.com", "tiktokv.com"]


def test_fast_precheck_never_rejects_a_true_match() -> None:
    m = DomainMatcher(LIST)
    for name in ("www.tiktok.com", "tiktok.com.", "x.tiktokv.com"):
        assert m.maybe(name.encode()) and m.family_of_bytes(name.encode()) == "tiktok"
    assert not m.maybe(b"nottiktok.com") and m.family_of_bytes(b"nottiktok.com") is None


LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(st.lists(LABEL, min_size=1, max_size=6), st.lists(st.lists(LABEL, min_size=2, max_size=3), min_size=1,
                                                         max_size=5), st.booleans(), st.booleans())
def test_matches_exactly_when_a_parent_is_listed(labels: list[str], listed: list[list[str]], upper: bool,
                                                  dot: bool) -> None:
    domains = {".".join(x) for x in listed}
    m = DomainMatcher(dict.fromkeys(domains, "f"))
    name = ".".join(labels)
    expected = any(".".join(labels[i:]) in domains for i in range(len(labels)))
    shown = (name.upper() if upper else name) + ("." if dot else "")
    assert (m.match(shown) == "f") == expected
    # and the bytes fast path agrees
    fast = m.maybe(name.encode()) and m.family_of_bytes(name.encode()) is not None
    assert fast == expected
    # a listed name glued to a longer first label ("x" + "tiktok.com") is another name: it never matches
    for d in domains:
        glued = "x" + d
        assert (m.match(glued) == "f") == any(".".join(glued.split(".")[i:]) in domains
                                             for i in range(len(glued.split("."))))


_WORDS = ["a", "b", "xn--", "_", "-", ".", "x" * 31, "\t", "\n", "\tfam", "Z", "é", "#", " ", "\x0b", "\x1c", "\r",
          "\t\t", "\n\n", "com", ".co.uk"]


@given(st.lists(st.sampled_from(_WORDS), max_size=40).map("".join))
@settings(max_examples=300, deadline=None)
def test_a_plain_list_read_at_once_is_read_as_line_by_line(text: str) -> None:
    """`_parse_plain` checks a whole list at once: what it accepts, the line-by-line reading gives the same."""
    from interdit.network.match import _parse_domain_list, _parse_plain

    fast = _parse_plain(text, "d")
    if fast is not None:
        assert fast == _parse_domain_list(text.splitlines(), Path("list.txt"), "d")


def test_a_plain_list_is_read_at_once_and_any_other_line_by_line() -> None:
    from interdit.network.match import _parse_plain

    assert _parse_plain("tiktok.com\ttiktok\nx.co.uk\n\nqq.com\tqq\n", "d") == {
        "tiktok.com": "tiktok", "x.co.uk": "d", "qq.com": "qq"}
    for text in ("TikTok.com\n", "tiktok.com # a comment\n", "a..com\n", "com\n", "tiktok.com\tone\ttwo\n",
                 "tiktok.com\tfam\x0bily\n", "x" * 64 + ".com\n", "-a.com\n", ""):
        assert _parse_plain(text, "d") is None, text
