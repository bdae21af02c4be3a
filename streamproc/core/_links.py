"""Links in comments: allowed domains pass, shorteners are spam, the rest is the policy's call."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from streamproc.core._policy import LinkRules

__all__ = ["LinkFound", "LinkScanner"]


@dataclass(frozen=True, slots=True)
class LinkFound:
    start: int
    end: int
    domain: str
    verdict: str  # "shortener" or "other"


class LinkScanner:
    def __init__(self, rules: LinkRules) -> None:
        self.rules = rules
        shorteners = "|".join(re.escape(d) for d in sorted(rules.shorteners, key=len, reverse=True))
        bare = rf"|(?<![\w.])(?:{shorteners})/[^\s<>\"']*" if shorteners else ""
        self._url = re.compile(rf"(?i)(?:\bhttps?://[^\s<>\"']+|(?<![\w.])www\.[^\s<>\"']+{bare})")
        # Every link starts with one of these: searching for them first is several times
        # faster than trying the full pattern (with its lookbehinds) at every position.
        starts = rf"|(?:{shorteners})/" if shorteners else ""
        self._start = re.compile(rf"(?i)https?://|www\.{starts}")

    def _domain(self, url: str) -> str:
        if "://" not in url:
            url = "http://" + url
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            return ""
        host = host.lower().rstrip(".")
        return host[4:] if host.startswith("www.") else host

    @staticmethod
    def _within(host: str, domains: tuple[str, ...]) -> bool:
        return any(host == d or host.endswith("." + d) for d in domains)

    def scan(self, text: str) -> list[LinkFound]:
        found: list[LinkFound] = []
        pos = 0
        while (start := self._start.search(text, pos)) is not None:
            m = self._url.match(text, start.start())  # the lookbehinds see the text before
            if m is None:
                pos = start.start() + 1
                continue
            pos = m.end()
            url = m.group().rstrip(".,;:!?)]}'\"")
            host = self._domain(url)
            if not host or self._within(host, self.rules.allowed_domains):
                continue
            verdict = "shortener" if self._within(host, self.rules.shorteners) else "other"
            found.append(LinkFound(m.start(), m.start() + len(url), host, verdict))
        return found
