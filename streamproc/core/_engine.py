"""The policy engine: one comment in, one decision out.

Most comments break no rule, so the engine is built around a fast path that costs little more
than the scan itself: fold the text with C-speed operations, run the automaton once, count
digits; if nothing fired, the comment is allowed. Only comments where something fired take the
slow path (offsets, allowlist, validators, strikes, moderation hours).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Final

from streamproc.core._context import match_context
from streamproc.core._decode import decode_comment, validate_comment
from streamproc.core._hours import ModerationHours
from streamproc.core._links import LinkScanner
from streamproc.core._matcher import RULE_TRIGGER, Found, Matcher
from streamproc.core._models import Author, Comment, Decision, Escalation, Match, PlatformIds
from streamproc.core._normalize import ScanForm, scan_form
from streamproc.core._pii import MIN_DIGITS, PiiFound, find_pii
from streamproc.core._policy import LexiconEntry, PolicyPack
from streamproc.core._rules import RuleMatcher, anchor_keys
from streamproc.core._strikes import StrikeStore, record_strike, strike_key
from streamproc.core._topics import RELEVANCE_RULE, OffTopic, Relevance
from streamproc.core._verdict import (
    ACTION_ORDER,
    AIMED,
    CATEGORY_ORDER,
    CONTEXTUAL,
    SEVERE_ACTIONS,
    Findings,
    Verdict,
    category_reason,
    escalate_borderline,
    escalation_reason,
    held_reason,
    lexicon_match,
    link_match,
    off_topic_match,
    pii_match,
)
from streamproc.core._warm import warm_validators

__all__ = ["Analysis", "Engine"]

_PII_NAMES: Final = {
    "email": "e-mail address",
    "phone": "phone number",
    "iban": "IBAN",
    "fiscal_code": "codice fiscale",
    "vat_number": "partita IVA",
    "payment_card": "payment card number",
}
_ORDINALS: Final = {1: "first", 2: "second", 3: "third"}


class _Timestamps:
    """``decided_at`` strings (ISO 8601, UTC, milliseconds), formatted once per millisecond
    rather than once per comment, and the date and time once per second."""

    __slots__ = ("_clock", "_ms", "_second", "_seconds_text", "_text")

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._ms = self._second = -1
        self._text = self._seconds_text = ""

    def now(self) -> str:
        ms = int(self._clock() * 1000)
        if ms != self._ms:
            self._ms = ms
            second, milli = divmod(ms, 1000)
            if second != self._second:
                self._second = second
                moment = datetime.fromtimestamp(second, UTC)
                self._seconds_text = moment.strftime("%Y-%m-%dT%H:%M:%S")
            self._text = f"{self._seconds_text}.{milli:03d}+00:00"
        return self._text


class Analysis:
    """What the engine found in one text, before the policy decides anything."""

    __slots__ = ("found", "links", "off_topic", "pii")

    def __init__(
        self,
        found: list[Found],
        pii: list[PiiFound],
        links: list[Match],
        off_topic: OffTopic | None = None,
    ) -> None:
        self.found = found
        self.pii = pii
        self.links = links
        self.off_topic = off_topic  # judged only when nothing else was found


class Engine:
    """A compiled policy pack. Thread-compatible; one instance serves any number of comments."""

    def __init__(self, pack: PolicyPack, clock: Callable[[], float] = time.time) -> None:
        self.pack = pack
        self.policy_version = pack.policy_version
        self.matcher = Matcher(
            pack.entries,
            link_words=pack.links.shorteners,
            rule_keys=anchor_keys(pack.rules, pack.rule_classes),
        )
        self._rules = (
            RuleMatcher(pack.rules, pack.rule_classes, not_names=pack.stopwords)
            if pack.rules
            else None
        )
        self._anchored = self.matcher.anchored
        self._automaton = self.matcher.automaton
        self._links = LinkScanner(pack.links)
        self._hours = ModerationHours(pack.hours)
        self._stamps = _Timestamps(clock)
        self._max_chars = pack.max_text_chars
        self._longest_window = max((lad.window_days for lad in pack.ladders.values()), default=1)
        self._corroborate = pack.corroborating_rules
        self._relevance = Relevance.for_pack(pack)  # None: off-topic relevance is off
        # Automaton values that cannot change a decision on their own, per author role: an
        # allowlist entry, a weak signal the policy ignores alone, a category that does not
        # apply to the role. A comment whose only hit is one of these is allowed at once.
        self._inert = {
            role: self.matcher.inert_values(partial(self._inert_entry, role=role))
            for role in ("public", "employee")
        }
        warm_validators(pack.phone_region)  # see _warm: not in the first comments' time
        self._hours.warm(datetime.fromtimestamp(clock(), UTC))

    def _inert_entry(self, entry: LexiconEntry, role: str) -> bool:
        if entry.is_allow:
            return True
        policy = self.pack.categories[entry.category]
        if role not in policy.roles:
            return True
        return entry.confidence == "low" and policy.on_borderline == "ignore"

    # --- detection -----------------------------------------------------------------------

    def analyze(self, text: str) -> Analysis:
        """Every match in ``text``, whatever the author's role (no policy applied)."""
        form, hits, suspect = self._scan(text)
        return self._analyze(form, hits, suspect)

    def _scan(self, text: str) -> tuple[ScanForm, list[tuple[int, object]], bool]:
        """The text's scan form, the automaton's hits on it, and whether the text may hold
        personal data."""
        form = scan_form(text)
        hits = list(self._automaton.iter(form.prepared))
        suspect = "@" in text or form.digits >= MIN_DIGITS
        return form, hits, suspect

    def _analyze(self, form: ScanForm, hits: list[tuple[int, object]], suspect: bool) -> Analysis:
        found, link = self.matcher.find(form, hits) if hits else ([], False)
        if self._rules is not None and any(
            v == RULE_TRIGGER or v in self._anchored for _, v in hits
        ):
            allowed = self.matcher.allowed_spans(form.prepared, hits)
            found = _with_rule_matches(found, self._rules.find(form, allowed))
        pii = find_pii(form.text, self.pack.phone_region) if suspect else []
        links = self._link_matches(form.text) if link else []
        return Analysis(found, pii, links)

    def _link_matches(self, text: str) -> list[Match]:
        other = self.pack.links.other_domains
        out: list[Match] = []
        for link in self._links.scan(text):
            if link.verdict == "shortener":
                out.append(link_match(link.start, link.end, "spam.link.shortener", "high"))
            elif other != "allow":
                confidence = "high" if other == "spam" else "low"
                out.append(link_match(link.start, link.end, "spam.link.other_domain", confidence))
        return out

    # --- decisions -----------------------------------------------------------------------

    def moderate(self, comment: object, strikes: StrikeStore) -> Decision:
        """Decide what to do with ``comment`` (a parsed JSON object or a :class:`Comment`).

        Raises :class:`CommentError` if it does not follow the Comment contract.
        """
        return self.decide(validate_comment(comment, self._max_chars), strikes)

    def moderate_json(self, raw: bytes | str, strikes: StrikeStore) -> Decision:
        """Decide what to do with one comment in JSON (the streaming and batch path).

        Raises :class:`CommentError` (kind ``invalid_json`` or ``invalid_comment``).
        """
        return self.decide(decode_comment(raw, self._max_chars), strikes)

    def decide(self, valid: Comment, strikes: StrikeStore) -> Decision:
        """Decide what to do with a validated comment."""
        if valid.deleted:  # nothing left to moderate, and no strike for it
            return _with_platform(self._allow(valid, valid.author), valid)
        decision = self._decide_text(valid, strikes)
        if valid.platform is not None or valid.version is not None:
            return _with_platform(decision, valid)
        return decision

    def _decide_text(self, valid: Comment, strikes: StrikeStore) -> Decision:
        # The fast path (see the module docstring): most comments end here. It reads each
        # attribute of the comment once (a msgspec struct's attributes are generic lookups).
        author = valid.author
        role = author.role or "public"
        form, hits, suspect = self._scan(valid.text)
        if not suspect and (
            not hits or self.matcher.quiet(hits, self._inert[role], self._corroborate)
        ):
            off_topic = self._off_topic(valid, form, role)
            if off_topic is None:
                return self._allow(valid, author)
            return self._decide(valid, Analysis([], [], [], off_topic), strikes, form)
        analysis = self._analyze(form, hits, suspect)
        return self._decide(valid, analysis, strikes, form)

    def _off_topic(self, c: Comment, form: ScanForm, role: str) -> OffTopic | None:
        """Whether a comment that is otherwise allowed is off topic (see ``_topics``)."""
        return None if self._relevance is None else self._relevance.judge_comment(c, form, role)

    def _decide(
        self, c: Comment, analysis: Analysis, strikes: StrikeStore, form: ScanForm | None = None
    ) -> Decision:
        found = self._weigh(c, analysis)
        if not found.matches and form is not None and analysis.off_topic is None:
            analysis.off_topic = self._off_topic(c, form, c.role)
            if analysis.off_topic is not None:
                found = self._weigh(c, analysis)
        if not found.matches:
            return self._allow(c, c.author)
        verdict = Verdict()
        self._apply_categories(c, found, analysis, verdict)
        if found.aimed:
            verdict.reasons.append(
                f"insult: {', '.join(found.aimed)} said of the person addressed"
                " (a weak term made a violation by its target)"
            )
        self._apply_ladders(c, found, strikes, verdict)
        escalate_borderline(found, verdict)
        if analysis.off_topic is not None:
            verdict.reasons.append(analysis.off_topic.reason())
        if "report_authorities" in verdict.actions and "escalate" not in verdict.actions:
            # Authorities are never reported without a person: always a case for review.
            verdict.escalate("report to the authorities", True)
        actions = verdict.settled_actions()
        escalation = None
        if "escalate" in actions:
            escalation = self._route(c.created_at, verdict.urgent)
            verdict.reasons.append(escalation_reason(escalation, verdict.causes))
        return {
            "comment_id": c.id,
            "channel": c.channel,
            "author_id": c.author.id,
            "categories": sorted(
                found.confirmed | found.borderline, key=CATEGORY_ORDER.__getitem__
            ),
            "actions": sorted(actions, key=ACTION_ORDER.__getitem__),
            "matches": found.matches,
            "policy_version": self.policy_version,
            "reasons": verdict.reasons,
            "decided_at": self._stamps.now(),
            "escalation": escalation,
            "reply": self._reply(actions, c.lang, found.langs),
        }

    def _weigh(self, c: Comment, analysis: Analysis) -> Findings:
        """Which categories the matches confirm, and which stay borderline (for people)."""
        pack = self.pack
        found = Findings()
        # Rules per (category, language): two weak signals confirm a category only if they
        # are in one language ("Barro Negro" is not two slurs because two lexicons list it).
        weak: dict[tuple[str, str], set[str]] = {}
        strong: dict[tuple[str, str], set[str]] = {}
        # What may back a severe action: the rules read as meant (not quoted, reported or
        # conditional), whether one of them was aimed at someone, and whether the matches
        # corroborate each other by themselves (a hidden spelling, a structural rule).
        backing: dict[tuple[str, str], set[str]] = {}
        addressed: set[tuple[str, str]] = set()
        corroborated: set[tuple[str, str]] = set()
        for f in analysis.found:
            entry = f.entry
            category = entry.category
            if c.role not in pack.categories[category].roles:
                continue
            found.matches.append(lexicon_match(f))
            found.rules.setdefault(category, []).append(entry.rule)
            found.langs.append(entry.lang)
            certain = entry.confidence == "high" or f.obfuscated
            key = (category, entry.lang)
            meant = True
            if category in CONTEXTUAL:
                context = match_context(c.text, f.start, f.end)
                if context.generic is not None and not f.obfuscated:
                    # Used generally (a proverb, a quotation, reported speech): for a person.
                    found.general.setdefault(category, []).append(
                        f"{entry.rule} ({context.generic})"
                    )
                    continue
                if not certain and context.predicated and category == "insult":
                    certain = True  # said of the person addressed: "sei un cornutone"
                    found.aimed.append(entry.rule)
                meant = not context.hypothetical
                if meant and context.targeted:
                    addressed.add(key)
            if meant:
                backing.setdefault(key, set()).add(entry.rule)
                if f.obfuscated or entry.structural:
                    corroborated.add(key)  # hiding the word is intent; a rule is two signals
            if certain:
                found.confirmed.add(category)
                strong.setdefault(key, set()).add(entry.rule)
            else:
                weak.setdefault(key, set()).add(entry.rule)
        corroborating = pack.corroborating_rules
        for (category, _), weak_rules in weak.items():
            # Several independent weak signals of one category confirm it; personal data is
            # one more signal that a first-person remark is a request about one's own case.
            signals = len(weak_rules) + (category == "assistance" and bool(analysis.pii))
            if signals >= corroborating:
                found.confirmed.add(category)
            elif pack.categories[category].on_borderline == "escalate":
                found.borderline.add(category)
        for key, rules in backing.items():
            # Blocking or reporting a citizen needs a match aimed at someone (where the
            # category has a target) and corroborated: by another rule of its language, a
            # hidden spelling or a structural rule. Anything less is held for a person.
            if (key in addressed or key[0] not in AIMED) and (
                key in corroborated or len(rules) >= corroborating
            ):
                found.sure.add(key[0])
        for category in found.general:
            if pack.categories[category].on_borderline == "escalate":
                found.borderline.add(category)
        for link in analysis.links:
            found.matches.append(link)
            found.rules.setdefault("spam", []).append(link["rule"])
            (found.confirmed if link["confidence"] == "high" else found.borderline).add("spam")
        for p in analysis.pii:
            found.matches.append(pii_match(p))
            found.confirmed.add("pii")
        if analysis.off_topic is not None:  # a judgement, never more than borderline
            found.matches.append(off_topic_match(len(c.text)))
            found.rules.setdefault("off_topic", []).append(RELEVANCE_RULE)
            found.borderline.add("off_topic")
        found.borderline -= found.confirmed
        found.matches.sort(key=lambda m: (m["start"], m["end"]))
        return found

    def _apply_categories(
        self, c: Comment, found: Findings, analysis: Analysis, verdict: Verdict
    ) -> None:
        """Each confirmed category's actions and reason, in the policy's category order."""
        pack = self.pack
        pii_in_private = c.kind == "private_message" and pack.pii_keep_in_private_messages
        for category in sorted(found.confirmed, key=CATEGORY_ORDER.__getitem__):
            policy = pack.categories[category]
            if category == "pii":
                verdict.reasons.append(
                    self._pii_reason(analysis.pii, policy.clause, pii_in_private)
                )
                if pii_in_private:
                    continue
                third_party = not ({"assistance", "spam"} & found.confirmed)
                if third_party and pack.pii_escalate_third_party:
                    verdict.escalate("personal data possibly of a third party", policy.urgent)
            else:
                verdict.reasons.append(
                    category_reason(category, policy.clause, found.rules[category])
                )
            actions = policy.actions
            if category not in found.sure and SEVERE_ACTIONS.intersection(actions):
                # Blocking or reporting a citizen needs a targeted, corroborated match.
                held = [a for a in actions if a in SEVERE_ACTIONS]
                actions = tuple(a for a in actions if a not in SEVERE_ACTIONS)
                verdict.reasons.append(held_reason(category, held))
                verdict.escalate(f"{category} held for a person", True)
            verdict.actions.update(actions)
            if "escalate" in actions:
                verdict.escalate(category, policy.urgent)
            if policy.ladder is not None:
                found.ladders.setdefault(policy.ladder, []).append(category)

    def _apply_ladders(
        self, c: Comment, found: Findings, strikes: StrikeStore, verdict: Verdict
    ) -> None:
        """A strike on each ladder a confirmed category climbs, and that step's actions."""
        pack = self.pack
        for name, categories in found.ladders.items():
            ladder = pack.ladders[name]
            number = self._strike(c, strikes, name, ladder.window_days)
            step = ladder.actions_for(number)
            verdict.actions.update(step)
            ordinal = _ORDINALS.get(number, f"{number}th")
            # The statement of reasons must not promise a warning that a block supersedes.
            blocked = "block" in verdict.actions
            shown = [f"{a} (superseded by block)" if a == "warn" and blocked else a for a in step]
            verdict.reasons.append(
                f"{ordinal} {name} violation within {ladder.window_days} days"
                f" ({', '.join(categories)})" + (f": {', '.join(shown)}" if shown else "")
            )
            if c.role == "employee" and pack.employee_actions:
                verdict.actions.update(pack.employee_actions)

    def _allow(self, c: Comment, author: Author) -> Decision:
        return {
            "comment_id": c.id,
            "channel": c.channel,
            "author_id": author.id,
            "categories": [],
            "actions": ["allow"],
            "matches": [],
            "policy_version": self.policy_version,
            "reasons": [],
            "decided_at": self._stamps.now(),
            "escalation": None,
            "reply": None,
        }

    def _strike(self, c: Comment, strikes: StrikeStore, ladder: str, window: int) -> int:
        key = strike_key(c.channel, c.author.id)
        number, updated = record_strike(
            strikes.get_strikes(key),
            c.id,
            c.created_at.timestamp(),
            ladder,
            window,
            self._longest_window,
        )
        if updated is not None:
            strikes.set_strikes(key, updated)
        return number

    def _route(self, created: datetime, urgent: bool) -> Escalation:
        if self._hours.is_open(created):
            return {
                "queue": "review",
                "urgent": urgent,
                "in_hours": True,
                "review_after": created.isoformat(),
            }
        if urgent:
            return {
                "queue": "urgent",
                "urgent": True,
                "in_hours": False,
                "review_after": created.isoformat(),
            }
        return {
            "queue": "deferred",
            "urgent": False,
            "in_hours": False,
            "review_after": self._hours.next_open(created).isoformat(),
        }

    def _reply(self, actions: set[str], lang: str | None, matched: list[str]) -> str | None:
        if "redirect" in actions:
            texts = self.pack.replies["redirect"]
        elif "warn" in actions:
            texts = self.pack.replies["warn"]
        else:
            return None
        for candidate in (lang, *matched, self.pack.default_language):
            if candidate is not None and candidate in texts:
                return texts[candidate]
        return next(iter(texts.values()), None)

    @staticmethod
    def _pii_reason(pii: list[PiiFound], clause: str, kept: bool) -> str:
        items = ", ".join(f"{_PII_NAMES[p.kind]} ({p.masked})" for p in pii)
        suffix = " — private message, not removed" if kept else ""
        return f"pii: {clause}: {items}{suffix}"


def _with_rule_matches(found: list[Found], ruled: list[Found]) -> list[Found]:
    """``found`` plus the rule matches that no lexicon match of their category overlaps (the
    lexicon's phrase already says it: "sei una vacca" stays its own rule)."""
    if not ruled:
        return found
    out = list(found)
    for r in ruled:
        if not any(
            f.entry.category == r.entry.category and f.start < r.end and r.start < f.end
            for f in out
        ):
            out.append(r)
    out.sort(key=lambda f: (f.start, -(f.end - f.start)))
    return out


def _with_platform(decision: Decision, c: Comment) -> Decision:
    """Copy what the sink needs to act on the platform from the comment into its decision."""
    p = c.platform
    if p is not None:
        ids: PlatformIds = {}
        if p.account_id is not None:
            ids["account_id"] = p.account_id
        if p.post_id is not None:
            ids["post_id"] = p.post_id
        if p.comment_id is not None:
            ids["comment_id"] = p.comment_id
        if p.message_id is not None:
            ids["message_id"] = p.message_id
        if p.parent_id is not None:
            ids["parent_id"] = p.parent_id
        if p.user_id is not None:
            ids["user_id"] = p.user_id
        decision["platform"] = ids
    if c.version is not None:
        decision["version"] = c.version
    if c.deleted:
        decision["deleted"] = True
    return decision
