"""The link scanner: which links it finds, where, and with what verdict."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamproc.core._links import LinkFound, LinkScanner
from streamproc.core._policy import LinkRules

RULES = LinkRules(
    allowed_domains=("inail.it", "gov.it"),
    shorteners=("bit.ly", "t.ly", "tinyurl.com"),
    other_domains="escalate",
)
SCANNER = LinkScanner(RULES)


def found(text: str) -> list[tuple[str, str, str]]:
    return [(text[f.start : f.end], f.domain, f.verdict) for f in SCANNER.scan(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vedi https://www.inail.it/faq", []),
        ("vedi https://servizi.gov.it/x e basta", []),
        ("clicca bit.ly/abc, subito", [("bit.ly/abc", "bit.ly", "shortener")]),
        ("clicca BIT.LY/abc", [("BIT.LY/abc", "bit.ly", "shortener")]),
        ("leggi http://Example.org/a?b=1.", [("http://Example.org/a?b=1", "example.org", "other")]),
        ("su www.fol.example.com!", [("www.fol.example.com", "fol.example.com", "other")]),
        # No word character or dot right before a bare link: "rabbit.ly/x" is not bit.ly.
        ("rabbit.ly/x and sub.bit.ly/y", []),
        # A link glued to a word is not one, but a link inside it still is.
        ("xhttp://www.evil.example/x", [("www.evil.example/x", "evil.example", "other")]),
        ("t.ly/a tinyurl.com/b", [("t.ly/a", "t.ly", "shortener"), ("tinyurl.com/b", "tinyurl.com", "shortener")]),  # noqa: E501
        ("(https://a.example/x)", [("https://a.example/x", "a.example", "other")]),
        ("solo testo, nessun link: www e http", []),
    ],
)  # fmt: skip
def test_links_found(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert found(text) == expected


def _reference_scan(text: str) -> list[LinkFound]:
    """The scanner's definition: the full pattern tried at every position, left to right."""
    out: list[LinkFound] = []
    for m in SCANNER._url.finditer(text):
        url = m.group().rstrip(".,;:!?)]}'\"")
        host = SCANNER._domain(url)
        if not host or SCANNER._within(host, RULES.allowed_domains):
            continue
        verdict = "shortener" if SCANNER._within(host, RULES.shorteners) else "other"
        out.append(LinkFound(m.start(), m.start() + len(url), host, verdict))
    return out


_PIECES = st.sampled_from(
    ["http", "https", "://", "www", ".", "bit", "ly", "/", "t", "HTTP", "WWW", "a", " ", "x",
     "inail", "it", "example", "com", "tinyurl", "-", "é", "ſ", "K", "\u0130", "_", ")", ","]
)  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(_PIECES, max_size=16).map("".join))
def test_the_fast_search_finds_what_the_full_pattern_finds(text: str) -> None:
    assert SCANNER.scan(text) == _reference_scan(text)
