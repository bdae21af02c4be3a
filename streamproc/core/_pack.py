"""Policy packs: loading, validating (with file and line) and fingerprinting.

A pack is read into a mapping of relative path -> text first, so that the same code loads a
pack from a directory, from a bundle published on Kafka, or from a test's dictionary.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from streamproc.core._models import ACTIONS, CATEGORIES, LEXICON_CATEGORIES, ROLES
from streamproc.core._normalize import normalize
from streamproc.core._yamlfile import LocatedYaml, YamlSyntaxError, load_located

__all__ = [
    "DEFAULT_PACK_PATH",
    "CategoryPolicy",
    "Hours",
    "Ladder",
    "LexiconEntry",
    "LinkRules",
    "PackError",
    "PackIssue",
    "PolicyPack",
    "bundle_pack",
    "check_pack",
    "load_pack",
    "parse_pack",
    "read_pack_files",
    "unbundle_pack",
]

DEFAULT_PACK_PATH: Final = Path(__file__).resolve().parent.parent / "packs" / "default"
POLICY_FILE: Final = "policy.yaml"
SEVERITIES: Final = ("low", "medium", "high")
CONFIDENCES: Final = ("high", "low")
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RULE_ID = re.compile(r"^[a-z0-9_.:*-]+$")
_LANG = re.compile(r"^[a-z]{2}$")
_LEXICON_PATH = re.compile(r"^lexicons/([^/]+)/([^/]+)\.txt$")
_ALLOWLIST_PATH = re.compile(r"^allowlist/([^/]+)\.txt$")


@dataclass(frozen=True)
class PackIssue:
    file: str
    line: int
    message: str
    level: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.level}: {self.message}"


class PackError(ValueError):
    """A pack that cannot be used; ``issues`` lists every error with its file and line."""

    def __init__(self, issues: list[PackIssue]) -> None:
        self.issues = issues
        errors = [i for i in issues if i.level == "error"]
        summary = "; ".join(str(i) for i in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"invalid policy pack: {summary}{more}")


MatchKind = Literal["word", "prefix", "suffix", "infix"]


@dataclass(frozen=True)
class LexiconEntry:
    """One lexicon or allowlist line, compiled."""

    pattern: str
    category: str  # "allow" for allowlist entries
    lang: str
    severity: str
    confidence: str
    rule: str
    kind: MatchKind
    words: str  # normalized words, single-spaced, no padding
    file: str
    line: int

    @property
    def is_allow(self) -> bool:
        return self.category == "allow"


@dataclass(frozen=True)
class CategoryPolicy:
    name: str
    clause: str
    actions: tuple[str, ...]
    ladder: str | None
    urgent: bool
    roles: tuple[str, ...]
    on_borderline: Literal["escalate", "ignore"]


@dataclass(frozen=True)
class Ladder:
    name: str
    window_days: int
    steps: tuple[tuple[str, ...], ...]

    def actions_for(self, strike_number: int) -> tuple[str, ...]:
        """Actions for the ``strike_number``-th strike (1-based); past the end, the last step."""
        return self.steps[min(strike_number, len(self.steps)) - 1]


@dataclass(frozen=True)
class Hours:
    timezone: str
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time
    holidays_country: str | None
    holidays_subdivision: str | None


@dataclass(frozen=True)
class LinkRules:
    allowed_domains: tuple[str, ...]
    shorteners: tuple[str, ...]
    other_domains: Literal["spam", "escalate", "allow"]


@dataclass(frozen=True)
class PolicyPack:
    name: str
    version: str
    digest: str
    default_language: str
    categories: Mapping[str, CategoryPolicy]
    ladders: Mapping[str, Ladder]
    employee_actions: tuple[str, ...]
    hours: Hours
    replies: Mapping[str, Mapping[str, str]]
    links: LinkRules
    max_text_chars: int
    corroborating_rules: int
    phone_region: str
    pii_escalate_third_party: bool
    pii_keep_in_private_messages: bool
    entries: tuple[LexiconEntry, ...]
    files: Mapping[str, str] = field(repr=False)

    @property
    def policy_version(self) -> str:
        """The version decisions cite: the declared version plus the content fingerprint."""
        return f"{self.version}+{self.digest[:12]}"


# --- Reading -------------------------------------------------------------------------------


def read_pack_files(path: str | Path) -> dict[str, str]:
    """Every text file of the pack directory at ``path``, by relative POSIX path."""
    root = Path(path)
    if not root.is_dir():
        raise PackError([PackIssue(str(root), 0, "not a directory")])
    files: dict[str, str] = {}
    for file in sorted(root.rglob("*")):
        if file.is_file() and file.suffix in (".yaml", ".yml", ".txt", ".md"):
            rel = file.relative_to(root).as_posix()
            try:
                files[rel] = file.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise PackError([PackIssue(rel, 0, f"not UTF-8 text: {exc}")]) from None
    return files


def load_pack(path: str | Path | None = None) -> PolicyPack:
    """Load and validate the pack at ``path`` (the bundled default pack if None)."""
    return parse_pack(read_pack_files(path if path is not None else DEFAULT_PACK_PATH))


def bundle_pack(files: Mapping[str, str]) -> bytes:
    """A pack as one JSON document, for the compacted policy topic."""
    return orjson.dumps({"format": "streamproc.pack/1", "files": dict(sorted(files.items()))})


def unbundle_pack(data: bytes) -> dict[str, str]:
    """The files of a bundle made by :func:`bundle_pack`; raises PackError if malformed."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise PackError([PackIssue("<bundle>", 0, f"not JSON: {exc}")]) from None
    if not isinstance(doc, dict):
        raise PackError([PackIssue("<bundle>", 0, "not a streamproc.pack/1 bundle")])
    files = doc.get("files")
    if doc.get("format") != "streamproc.pack/1" or not isinstance(files, dict):
        raise PackError([PackIssue("<bundle>", 0, "not a streamproc.pack/1 bundle")])
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise PackError([PackIssue("<bundle>", 0, "bundle files must map names to text")])
    return files


def _digest(files: Mapping[str, str]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode())
        h.update(b"\0")
        h.update(files[name].encode())
        h.update(b"\0")
    return h.hexdigest()


# --- Lexicons ------------------------------------------------------------------------------


def _split_entry(line: str) -> tuple[str, str]:
    """``pattern | options  # comment`` -> (pattern, options)."""
    hash_at = line.find(" #")
    if hash_at >= 0:
        line = line[:hash_at]
    pattern, _, options = line.partition("|")
    return pattern.strip(), options.strip()


def _parse_pattern(pattern: str) -> tuple[MatchKind, str] | str:
    """(kind, normalized words), or an error message."""
    prefix = pattern.endswith("*")
    suffix = pattern.startswith("*")
    core = pattern.strip("*")
    if "*" in core:
        return "'*' is allowed only at the start or the end of a pattern"
    if not core.strip():
        return "empty pattern"
    words = normalize(core).strip(" ")
    if not any(c.isalpha() for c in core):
        return f"pattern {pattern!r} has no letter after normalization (numbers are too ambiguous)"
    if "\x7f" in words:
        return f"pattern {pattern!r} has letters of a script the normalizer does not fold"
    if (prefix and core.endswith(" ")) or (suffix and core.startswith(" ")):
        return "'*' must touch a word"
    kind: MatchKind = (
        "infix" if prefix and suffix else "prefix" if prefix else "suffix" if suffix else "word"
    )
    return kind, words


def _default_rule(category: str, lang: str, kind: MatchKind, words: str) -> str:
    """``insult.it.stronz*``: category, language and the pattern as normalized."""
    core = words.replace(" ", "_")
    prefix = "*" if kind in ("suffix", "infix") else ""
    suffix = "*" if kind in ("prefix", "infix") else ""
    return f"{category}.{lang}.{prefix}{core}{suffix}"


def _parse_lexicon(
    name: str, text: str, category: str, lang: str, issues: list[PackIssue]
) -> list[LexiconEntry]:
    entries: list[LexiconEntry] = []
    seen: dict[tuple[str, str], int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pattern, options_text = _split_entry(stripped)
        parsed = _parse_pattern(pattern)
        if isinstance(parsed, str):
            issues.append(PackIssue(name, number, parsed))
            continue
        kind, words = parsed[0], parsed[1]
        options: dict[str, str] = {}
        for option in options_text.split():
            key, eq, value = option.partition("=")
            if not eq or not value:
                issues.append(PackIssue(name, number, f"option {option!r} is not key=value"))
                continue
            options[key] = value
        severity = options.pop("severity", "medium")
        confidence = options.pop("confidence", "high")
        rule = options.pop("rule", _default_rule(category, lang, kind, words))
        if category == "allow" and (options_text and options_text.strip()):
            issues.append(PackIssue(name, number, "allowlist entries take no options"))
        for unknown in options:
            issues.append(PackIssue(name, number, f"unknown option {unknown!r}"))
        if severity not in SEVERITIES:
            issues.append(PackIssue(name, number, f"severity must be one of {SEVERITIES}"))
            continue
        if confidence not in CONFIDENCES:
            issues.append(PackIssue(name, number, f"confidence must be one of {CONFIDENCES}"))
            continue
        if not _RULE_ID.match(rule):
            issues.append(PackIssue(name, number, f"rule id {rule!r} must match [a-z0-9_.:*-]+"))
            continue
        seen_key = (kind, words)
        if seen_key in seen:
            issues.append(
                PackIssue(
                    name,
                    number,
                    f"duplicate of line {seen[seen_key]} (same words after normalization)",
                    "warning",
                )
            )
            continue
        seen[seen_key] = number
        entries.append(
            LexiconEntry(
                pattern=pattern,
                category=category,
                lang=lang,
                severity=severity,
                confidence=confidence,
                rule=rule,
                kind=kind,
                words=words,
                file=name,
                line=number,
            )
        )
    return entries


# --- policy.yaml ---------------------------------------------------------------------------


class _Checker:
    """Typed access to policy.yaml that records an issue (with the line) for each problem."""

    def __init__(self, doc: LocatedYaml, issues: list[PackIssue]) -> None:
        self.doc = doc
        self.issues = issues

    def error(self, path: tuple[str | int, ...], message: str) -> None:
        where = ".".join(str(p) for p in path) or "document"
        self.issues.append(PackIssue(POLICY_FILE, self.doc.line(path), f"{where}: {message}"))

    def get(self, path: tuple[str | int, ...], default: Any = None) -> Any:
        node: Any = self.doc.value
        for part in path:
            found = (isinstance(part, str) and isinstance(node, dict) and part in node) or (
                isinstance(part, int) and isinstance(node, list) and part < len(node)
            )
            if not found:
                return default
            node = node[part]
        return node

    def mapping(self, path: tuple[str | int, ...], required: bool = True) -> dict[str, Any]:
        value = self.get(path)
        if value is None:
            if required:
                self.error(path, "is required")
            return {}
        if not isinstance(value, dict):
            self.error(path, "must be a mapping")
            return {}
        return value

    def string(self, path: tuple[str | int, ...], default: str | None = None) -> str:
        value = self.get(path, default)
        if value is None:
            self.error(path, "is required")
            return ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.error(path, "must be a string")
            return ""
        return str(value)

    def boolean(self, path: tuple[str | int, ...], default: bool) -> bool:
        value = self.get(path, default)
        if not isinstance(value, bool):
            self.error(path, "must be true or false")
            return default
        return value

    def integer(self, path: tuple[str | int, ...], default: int, minimum: int = 1) -> int:
        value = self.get(path, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.error(path, f"must be an integer >= {minimum}")
            return default
        return value

    def choices(
        self,
        path: tuple[str | int, ...],
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

    def strings(self, path: tuple[str | int, ...]) -> tuple[str, ...]:
        value = self.get(path, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(path, "must be a list of strings")
            return ()
        return tuple(value)

    def clock(self, path: tuple[str | int, ...], default: str) -> time:
        text = self.string(path, default)
        try:
            return time.fromisoformat(text)
        except ValueError:
            self.error(path, f"{text!r} is not a time of day like 09:00")
            return time.fromisoformat(default)


def _parse_categories(check: _Checker, ladders: Mapping[str, Ladder]) -> dict[str, CategoryPolicy]:
    section = check.mapping(("categories",))
    categories: dict[str, CategoryPolicy] = {}
    for name in section:
        if name not in CATEGORIES:
            check.error(("categories", name), f"unknown category (known: {', '.join(CATEGORIES)})")
    for name in CATEGORIES:
        path: tuple[str | int, ...] = ("categories", name)
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


def _parse_ladders(check: _Checker) -> dict[str, Ladder]:
    section = check.mapping(("ladders",))
    ladders: dict[str, Ladder] = {}
    for name in section:
        path: tuple[str | int, ...] = ("ladders", name)
        check.mapping(path)
        raw_steps = check.get((*path, "steps"))
        if not isinstance(raw_steps, list) or not raw_steps:
            check.error((*path, "steps"), "must be a non-empty list of action lists")
            continue
        steps = tuple(check.choices((*path, "steps", i), ACTIONS) for i in range(len(raw_steps)))
        ladders[name] = Ladder(name, check.integer((*path, "window_days"), 90), steps)
    return ladders


def _parse_hours(check: _Checker) -> Hours:
    path: tuple[str | int, ...] = ("moderation_hours",)
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
            holidays.country_holidays(country, subdiv=subdivision, years=2026)
        except NotImplementedError:
            check.error((*path, "holidays"), f"no holiday calendar for {country!r}")
            country = None
        except Exception as exc:  # the library raises plain errors for bad subdivisions
            check.error((*path, "holidays"), str(exc))
            country = None
    return Hours(zone, frozenset(WEEKDAYS.index(d) for d in days), start, end, country, subdivision)


def _parse_replies(check: _Checker, languages: tuple[str, ...]) -> dict[str, dict[str, str]]:
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


def _parse_links(check: _Checker) -> LinkRules:
    path: tuple[str | int, ...] = ("links",)
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


def _collect(files: Mapping[str, str]) -> tuple[PolicyPack | None, list[PackIssue]]:
    issues: list[PackIssue] = []
    if POLICY_FILE not in files:
        return None, [PackIssue(POLICY_FILE, 0, "the pack has no policy.yaml")]
    try:
        doc = load_located(files[POLICY_FILE])
    except YamlSyntaxError as exc:
        return None, [PackIssue(POLICY_FILE, exc.line, f"YAML syntax: {exc}")]
    if not isinstance(doc.value, dict):
        return None, [PackIssue(POLICY_FILE, 1, "must be a mapping")]
    check = _Checker(doc, issues)
    known_top = {
        "name", "version", "languages", "default_language", "categories", "ladders",
        "employees", "moderation_hours", "replies", "links", "limits", "pii", "borderline",
    }  # fmt: skip
    for key in doc.value:
        if key not in known_top:
            check.error((key,), "unknown section")
    languages = check.strings(("languages",)) or ("it", "en")
    for index, lang in enumerate(languages):
        if not _LANG.match(lang):
            check.error(("languages", index), "must be an ISO 639-1 code such as it")
    default_language = check.string(("default_language",), languages[0])
    if default_language not in languages:
        check.error(("default_language",), "must be one of languages")
    ladders = _parse_ladders(check)
    categories = _parse_categories(check, ladders)
    employee_actions = check.choices(("employees", "on_violation"), ACTIONS)
    hours = _parse_hours(check)
    replies = _parse_replies(check, languages)
    links = _parse_links(check)
    max_text = check.integer(("limits", "max_text_chars"), 5000)
    phone_region = check.string(("pii", "phone_region"), "IT").upper()
    pii_third = check.boolean(("pii", "escalate_third_party"), True)
    pii_private = check.boolean(("pii", "keep_in_private_messages"), True)
    version = check.string(("version",))
    name = check.string(("name",), "unnamed pack")

    entries: list[LexiconEntry] = []
    for rel in sorted(files):
        if rel == POLICY_FILE or rel.endswith(".md"):
            continue
        lexicon = _LEXICON_PATH.match(rel)
        allow = _ALLOWLIST_PATH.match(rel)
        if lexicon:
            lang, category = lexicon.groups()
            if category not in LEXICON_CATEGORIES:
                issues.append(PackIssue(rel, 0, f"unknown category {category!r}"))
                continue
        elif allow:
            lang, category = allow.group(1), "allow"
        else:
            issues.append(PackIssue(rel, 0, "unexpected file in the pack", "warning"))
            continue
        if lang not in languages:
            issues.append(PackIssue(rel, 0, f"language {lang!r} is not in policy languages"))
            continue
        entries.extend(_parse_lexicon(rel, files[rel], category, lang, issues))

    rules: dict[str, LexiconEntry] = {}
    for entry in entries:
        if entry.is_allow:
            continue
        if entry.rule in rules and rules[entry.rule].words != entry.words:
            first = rules[entry.rule]
            issues.append(
                PackIssue(
                    entry.file,
                    entry.line,
                    f"rule id {entry.rule!r} already used at {first.file}:{first.line}",
                )
            )
        rules.setdefault(entry.rule, entry)

    if any(i.level == "error" for i in issues):
        return None, issues
    pack = PolicyPack(
        name=name,
        version=version,
        digest=_digest(files),
        default_language=default_language,
        categories=categories,
        ladders=ladders,
        employee_actions=employee_actions,
        hours=hours,
        replies=replies,
        links=links,
        max_text_chars=max_text,
        corroborating_rules=check.integer(("borderline", "corroborating_rules"), 2),
        phone_region=phone_region,
        pii_escalate_third_party=pii_third,
        pii_keep_in_private_messages=pii_private,
        entries=tuple(entries),
        files=dict(files),
    )
    return pack, issues


def check_pack(files: Mapping[str, str]) -> list[PackIssue]:
    """Every error and warning in the pack, each with its file and line."""
    return _collect(files)[1]


def parse_pack(files: Mapping[str, str]) -> PolicyPack:
    """A validated pack; raises :class:`PackError` listing every error."""
    pack, issues = _collect(files)
    if pack is None:
        raise PackError(issues)
    return pack
