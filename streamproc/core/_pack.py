"""Policy packs: a pack's files validated into a :class:`PolicyPack`, every problem reported
with its file and line (:func:`check_pack`), or refused with all of them (:func:`parse_pack`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from streamproc.core._lexicon import parse_lexicon
from streamproc.core._matcher import Matcher
from streamproc.core._models import ACTIONS, LEXICON_CATEGORIES
from streamproc.core._packfiles import DEFAULT_PACK_PATH, digest, read_pack_files
from streamproc.core._policy import (
    LexiconEntry,
    PackError,
    PackIssue,
    PolicyPack,
    StructRule,
    TopicTerm,
)
from streamproc.core._policyfile import (
    POLICY_FILE,
    Checker,
    parse_categories,
    parse_hours,
    parse_ladders,
    parse_links,
    parse_replies,
)
from streamproc.core._rules import RuleMatcher, anchor_keys, parse_rules
from streamproc.core._topics import parse_stopwords, parse_topics
from streamproc.core._yamlfile import YamlSyntaxError, load_located

__all__ = ["PackCheck", "check_pack", "inspect_pack", "load_pack", "parse_pack"]

_LANG = re.compile(r"^[a-z]{2}$")
_LEXICON_PATH = re.compile(r"^lexicons/([^/]+)/([^/]+)\.txt$")
_ALLOWLIST_PATH = re.compile(r"^allowlist/([^/]+)\.txt$")
_RULES_PATH = re.compile(r"^rules/([^/]+)\.txt$")
_TOPICS_PATH = re.compile(r"^topics/([^/]+)\.txt$")
_STOPWORDS_PATH = re.compile(r"^stopwords/([^/]+)\.txt$")


def load_pack(path: str | Path | None = None) -> PolicyPack:
    """Load and validate the pack at ``path`` (the bundled default pack if None)."""
    return parse_pack(read_pack_files(path if path is not None else DEFAULT_PACK_PATH))


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
    check = Checker(doc, issues)
    known_top = {
        "name", "version", "languages", "default_language", "categories", "ladders",
        "employees", "moderation_hours", "replies", "links", "limits", "pii", "borderline",
        "relevance",
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
    ladders = parse_ladders(check)
    categories = parse_categories(check, ladders)
    employee_actions = check.choices(("employees", "on_violation"), ACTIONS)
    hours = parse_hours(check)
    replies = parse_replies(check, languages)
    links = parse_links(check)
    max_text = check.integer(("limits", "max_text_chars"), 5000)
    phone_region = check.string(("pii", "phone_region"), "IT").upper()
    pii_third = check.boolean(("pii", "escalate_third_party"), True)
    pii_private = check.boolean(("pii", "keep_in_private_messages"), True)
    version = check.string(("version",))
    name = check.string(("name",), "unnamed pack")
    check.mapping(("relevance",), required=False)
    min_words = check.integer(("relevance", "min_content_words"), 8, minimum=2)
    min_alone = check.integer(("relevance", "min_content_words_without_post"), 12, minimum=2)

    # Stop words first (of every language: comments mix them), since topics are read past them.
    stopwords: frozenset[str] = frozenset()
    for rel in sorted(files):
        stop = _STOPWORDS_PATH.match(rel)
        if stop:
            if stop.group(1) not in languages:
                issues.append(
                    PackIssue(rel, 0, f"language {stop.group(1)!r} is not in policy languages")
                )
            else:
                stopwords |= parse_stopwords(files[rel])
    topics: list[TopicTerm] = []

    entries: list[LexiconEntry] = []
    structural: list[StructRule] = []
    rule_classes: dict[str, tuple[str, ...]] = {}
    for rel in sorted(files):
        if rel == POLICY_FILE or rel.endswith(".md"):
            continue
        lexicon = _LEXICON_PATH.match(rel)
        allow = _ALLOWLIST_PATH.match(rel)
        ruled = _RULES_PATH.match(rel)
        topic = _TOPICS_PATH.match(rel)
        if _STOPWORDS_PATH.match(rel):
            continue
        if topic:
            if topic.group(1) not in languages:
                issues.append(
                    PackIssue(rel, 0, f"language {topic.group(1)!r} is not in policy languages")
                )
            else:
                topics.extend(parse_topics(rel, files[rel], topic.group(1), stopwords, issues))
            continue
        if ruled:
            if ruled.group(1) not in languages:
                issues.append(
                    PackIssue(rel, 0, f"language {ruled.group(1)!r} is not in policy languages")
                )
                continue
            classes, file_rules = parse_rules(rel, files[rel], ruled.group(1), issues)
            rule_classes.update(classes)
            structural.extend(file_rules)
            continue
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
        entries.extend(parse_lexicon(rel, files[rel], category, lang, issues))
    # A derived form another lexicon lists itself belongs there ("stronzata" is profanity,
    # not one more form of the insult "stronzo").
    listed = {(e.lang, e.kind, e.words) for e in entries if not e.derived}
    entries = [e for e in entries if not e.derived or (e.lang, e.kind, e.words) not in listed]

    rules: dict[str, LexiconEntry] = {}
    for entry in entries:
        if entry.is_allow:
            continue
        first = rules.get(entry.rule)
        # One line may stand for several spellings (forms=it, compounds), all citing its rule.
        if (
            first is not None
            and first.words != entry.words
            and (first.file, first.line) != (entry.file, entry.line)
        ):
            issues.append(
                PackIssue(
                    entry.file,
                    entry.line,
                    f"rule id {entry.rule!r} already used at {first.file}:{first.line}",
                )
            )
        rules.setdefault(entry.rule, entry)
    where = {rule: f"{e.file}:{e.line}" for rule, e in rules.items()}
    for struct in structural:
        if struct.rule in where:
            issues.append(
                PackIssue(
                    struct.file,
                    struct.line,
                    f"rule id {struct.rule!r} already used at {where[struct.rule]}",
                )
            )
        where.setdefault(struct.rule, f"{struct.file}:{struct.line}")

    if topics and not stopwords:
        issues.append(
            PackIssue("topics/", 0, "topics without stopwords/: every word counts", "warning")
        )

    if any(i.level == "error" for i in issues):
        return None, issues
    pack = PolicyPack(
        name=name,
        version=version,
        digest=digest(files),
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
        rules=tuple(structural),
        rule_classes=rule_classes,
        topics=tuple(topics),
        stopwords=stopwords,
        relevance_min_words=min_words,
        relevance_min_words_without_post=min_alone,
    )
    return pack, issues


@dataclass(frozen=True)
class PackCheck:
    """What :func:`inspect_pack` found: the pack (None if it has errors), every issue, and the
    size of the automaton it compiles to."""

    pack: PolicyPack | None
    issues: list[PackIssue]
    automaton_keys: int = 0

    @property
    def errors(self) -> list[PackIssue]:
        return [i for i in self.issues if i.level == "error"]


def inspect_pack(files: Mapping[str, str]) -> PackCheck:
    """Every error and warning in the pack, each with its file and line; for a pack without
    errors also each allowlist entry that protects no banned pattern (it has no effect)."""
    pack, issues = _collect(files)
    if pack is None:
        return PackCheck(None, issues)

    matcher = Matcher(
        pack.entries,
        link_words=pack.links.shorteners,
        rule_keys=anchor_keys(pack.rules, pack.rule_classes),
    )
    rules = RuleMatcher(pack.rules, pack.rule_classes)
    issues += [
        PackIssue(e.file, e.line, "allowlist entry protects no banned pattern", "warning")
        for e in matcher.inert_allow_entries()
        if not rules.protects(e)  # it cancels the rule matches of a class phrase it holds
    ]
    issues += _allowlisted_class_phrases(pack, matcher)
    return PackCheck(pack, issues, matcher.key_count)


def _allowlisted_class_phrases(pack: PolicyPack, matcher: Matcher) -> list[PackIssue]:
    """A warning for each rule class phrase that an allowlist entry covers wherever it is
    written: the rule never matches it unless obfuscated (prefix phrases aside)."""
    out: list[PackIssue] = []
    seen: set[tuple[str, str]] = set()
    for rule in pack.rules:
        for class_name in (rule.first, rule.second):
            for key in pack.rule_classes.get(class_name, ()):
                if (class_name, key) in seen or not key.endswith(" "):
                    continue
                seen.add((class_name, key))
                allow = matcher.allow_cover(key.strip(" "))
                if allow is not None:
                    out.append(
                        PackIssue(
                            rule.file,
                            rule.line,
                            f"{class_name.partition(':')[2]} {key.strip()!r} lies inside the"
                            f" allowlist entry at {allow.file}:{allow.line}: {rule.rule} never"
                            " matches it unless obfuscated",
                            "warning",
                        )
                    )
    return out


def check_pack(files: Mapping[str, str]) -> list[PackIssue]:
    """Every error and warning in the pack (see :func:`inspect_pack`)."""
    return inspect_pack(files).issues


def parse_pack(files: Mapping[str, str]) -> PolicyPack:
    """A validated pack; raises :class:`PackError` listing every error."""
    pack, issues = _collect(files)
    if pack is None:
        raise PackError(issues)
    return pack
