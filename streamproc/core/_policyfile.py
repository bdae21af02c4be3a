"""``policy.yaml``: typed access that records an issue, with its line, for each problem, and
the parsers of its sections."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import time
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from streamproc.core._models import ACTIONS, CATEGORIES, ROLES
from streamproc.core._policy import CategoryPolicy, Hours, Ladder, LinkRules, PackIssue
from streamproc.core._yamlfile import KeyPath, LocatedYaml

__all__ = [
    "POLICY_FILE",
    "Checker",
    "parse_categories",
    "parse_hours",
    "parse_ladders",
    "parse_links",
    "parse_replies",
]

POLICY_FILE: Final = "policy.yaml"
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Checker:
    """Typed access to policy.yaml that records an issue (with the line) for each problem."""

    def __init__(self, doc: LocatedYaml, issues: list[PackIssue]) -> None:
        self.doc = doc
        self.issues = issues

    def error(self, path: KeyPath, message: str) -> None:
        where = ".".join(str(p) for p in path) or "document"
        self.issues.append(PackIssue(POLICY_FILE, self.doc.line(path), f"{where}: {message}"))

    def get(self, path: KeyPath, default: Any = None) -> Any:
        node: Any = self.doc.value
        for part in path:
            found = (isinstance(part, str) and isinstance(node, dict) and part in node) or (
                isinstance(part, int) and isinstance(node, list) and part < len(node)
            )
            if not found:
                return default
            node = node[part]
        return node

    def mapping(self, path: KeyPath, required: bool = True) -> dict[str, Any]:
        value = self.get(path)
        if value is None:
            if required:
                self.error(path, "is required")
            return {}
        if not isinstance(value, dict):
            self.error(path, "must be a mapping")
            return {}
        return value

    def string(self, path: KeyPath, default: str | None = None) -> str:
        value = self.get(path, default)
        if value is None:
            self.error(path, "is required")
            return ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.error(path, "must be a string")
            return ""
        return str(value)

    def boolean(self, path: KeyPath, default: bool) -> bool:
        value = self.get(path, default)
        if not isinstance(value, bool):
            self.error(path, "must be true or false")
            return default
        return value

    def integer(self, path: KeyPath, default: int, minimum: int = 1) -> int:
        value = self.get(path, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.error(path, f"must be an integer >= {minimum}")
            return default
        return value

    def choices(
        self,
        path: KeyPath,
        allowed: Iterable[str],
        default: tuple[str, ...] = (),
    ) -> tuple[str, ...]:
        allowed = tuple(allowed)
        value = self.get(path, list(default))
        if not isinstance(value, list):
            self.error(path, "must be a list")
            return default
        out: list[str] = []
        for index, item in enumerate(value):
            if item not in allowed:
                self.error((*path, index), f"{item!r} is not one of {', '.join(allowed)}")
            else:
                out.append(item)
        return tuple(out)

    def strings(self, path: KeyPath) -> tuple[str, ...]:
        value = self.get(path, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(path, "must be a list of strings")
            return ()
        return tuple(value)

    def clock(self, path: KeyPath, default: str) -> time:
        text = self.string(path, default)
        try:
            return time.fromisoformat(text)
        except ValueError:
            self.error(path, f"{text!r} is not a time of day like 09:00")
            return time.fromisoformat(default)


def parse_categories(check: Checker, ladders: Mapping[str, Ladder]) -> dict[str, CategoryPolicy]:
    section = check.mapping(("categories",))
    categories: dict[str, CategoryPolicy] = {}
    for name in section:
        if name not in CATEGORIES:
            check.error(("categories", name), f"unknown category (known: {', '.join(CATEGORIES)})")
    for name in CATEGORIES:
        path: KeyPath = ("categories", name)
        if name not in section:
            check.error(("categories",), f"category {name!r} is missing")
            continue
        check.mapping(path)
        ladder = check.get((*path, "ladder"))
        if ladder is not None and ladder not in ladders:
            check.error((*path, "ladder"), f"no ladder named {ladder!r}")
            ladder = None
        on_borderline = check.string((*path, "on_borderline"), "escalate")
        if on_borderline not in ("escalate", "ignore"):
            check.error((*path, "on_borderline"), "must be escalate or ignore")
            on_borderline = "escalate"
        categories[name] = CategoryPolicy(
            name=name,
            clause=check.string((*path, "clause")),
            actions=check.choices((*path, "actions"), ACTIONS),
            ladder=ladder,
            urgent=check.boolean((*path, "urgent"), False),
            roles=check.choices((*path, "roles"), ROLES, ROLES),
            on_borderline=on_borderline,  # type: ignore[arg-type]
        )
    return categories


def parse_ladders(check: Checker) -> dict[str, Ladder]:
    section = check.mapping(("ladders",))
    ladders: dict[str, Ladder] = {}
    for name in section:
        path: KeyPath = ("ladders", name)
        check.mapping(path)
        raw_steps = check.get((*path, "steps"))
        if not isinstance(raw_steps, list) or not raw_steps:
            check.error((*path, "steps"), "must be a non-empty list of action lists")
            continue
        steps = tuple(check.choices((*path, "steps", i), ACTIONS) for i in range(len(raw_steps)))
        ladders[name] = Ladder(name, check.integer((*path, "window_days"), 90), steps)
    return ladders


def parse_hours(check: Checker) -> Hours:
    path: KeyPath = ("moderation_hours",)
    check.mapping(path)
    zone = check.string((*path, "timezone"), "Europe/Rome")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        check.error((*path, "timezone"), f"unknown time zone {zone!r}")
        zone = "Europe/Rome"
    days = check.choices((*path, "days"), WEEKDAYS, WEEKDAYS[:5])
    start = check.clock((*path, "start"), "09:00")
    end = check.clock((*path, "end"), "19:00")
    if end <= start:
        check.error((*path, "end"), "must be after start")
    country = check.get((*path, "holidays", "country"), "IT")
    subdivision = check.get((*path, "holidays", "subdivision"))
    if country is not None:
        import holidays  # a pure data library; imported here to keep start-up light

        try:
            holidays.country_holidays(
                country,
                subdiv=subdivision,
            )
        except NotImplementedError:
            check.error((*path, "holidays"), f"no holiday calendar for {country!r}")
            country = None
        except Exception as exc:  # the library raises plain errors for bad subdivisions
            check.error((*path, "holidays"), str(exc))
            country = None
    return Hours(zone, frozenset(WEEKDAYS.index(d) for d in days), start, end, country, subdivision)


def parse_replies(check: Checker, languages: tuple[str, ...]) -> dict[str, dict[str, str]]:
    section = check.mapping(("replies",))
    replies: dict[str, dict[str, str]] = {}
    for action in ("redirect", "warn"):
        if action not in section:
            check.error(("replies",), f"a {action!r} reply is required")
            continue
        texts = check.mapping(("replies", action))
        for lang in languages:
            if lang not in texts:
                check.error(("replies", action), f"no {lang!r} text")
        replies[action] = {k: check.string(("replies", action, k)) for k in texts}
    return replies


def parse_links(check: Checker) -> LinkRules:
    path: KeyPath = ("links",)
    check.mapping(path)
    other = check.string((*path, "other_domains"), "escalate")
    if other not in ("spam", "escalate", "allow"):
        check.error((*path, "other_domains"), "must be spam, escalate or allow")
        other = "escalate"
    return LinkRules(
        tuple(d.lower() for d in check.strings((*path, "allowed_domains"))),
        tuple(d.lower() for d in check.strings((*path, "shorteners"))),
        other,  # type: ignore[arg-type]
    )
