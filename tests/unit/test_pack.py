"""Policy packs: every error reported with its file and line; bundles; fingerprints."""

from __future__ import annotations

import pytest

from streamproc.core import (
    PackError,
    bundle_pack,
    check_pack,
    parse_pack,
    unbundle_pack,
)

from .conftest import mini_files


def errors(files: dict[str, str]) -> list[str]:
    return [str(i) for i in check_pack(files) if i.level == "error"]


def test_the_mini_pack_is_valid() -> None:
    assert errors(mini_files()) == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("bad*pattern", "'*' is allowed only at the start or the end"),
        ("1312", "has no letter"),
        ("stronzo | severity=extreme", "severity must be one of"),
        ("stronzo | confidence=maybe", "confidence must be one of"),
        ("stronzo | colour=red", "unknown option 'colour'"),
        ("stronzo | severity", "is not key=value"),
        ("stronzo | rule=Bad", "rule id 'Bad' must match"),
        ("* merda", "'*' must touch a word"),
    ],
)
def test_lexicon_errors_name_file_and_line(line: str, message: str) -> None:
    files = mini_files(**{"lexicons/it/spam.txt": f"# spam\nguadagna subito\n{line}\n"})
    found = errors(files)
    assert any(e.startswith("lexicons/it/spam.txt:3: error:") and message in e for e in found), (
        found
    )


def test_duplicates_are_warnings() -> None:
    files = mini_files(**{"lexicons/it/spam.txt": "guadagna subito\nGuadagna  SUBITO\n"})
    issues = check_pack(files)
    # check_pack also warns about the mini pack's inert allowlist entries (negroni, scunthorpe).
    lexicon = [(i.file, i.line, i.level) for i in issues if i.file.startswith("lexicons/")]
    assert lexicon == [("lexicons/it/spam.txt", 2, "warning")]
    assert all(i.level == "warning" for i in issues)


def test_unknown_category_file_and_language() -> None:
    files = mini_files(**{"lexicons/it/gossip.txt": "x\n", "lexicons/de/insult.txt": "arsch\n"})
    found = errors(files)
    assert any("lexicons/it/gossip.txt" in e and "unknown category" in e for e in found)
    assert any("lexicons/de/insult.txt" in e and "not in policy languages" in e for e in found)


def replace_in_policy(old: str, new: str) -> dict[str, str]:
    files = mini_files()
    assert old in files["policy.yaml"], old
    files["policy.yaml"] = files["policy.yaml"].replace(old, new, 1)
    return files


def policy_line(files: dict[str, str], needle: str) -> int:
    return files["policy.yaml"].splitlines().index(needle) + 1


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    actions: [remove]\n    ladder: conduct\n  insult:",
         "    actions: [remove, shout]\n    ladder: conduct\n  insult:",
         "categories.profanity.actions.1: 'shout' is not one of"),
        ("  start: \"09:00\"", "  start: \"nine\"", "'nine' is not a time of day"),
        ("  timezone: Europe/Rome", "  timezone: Europe/Atlantis", "unknown time zone"),
        ("    window_days: 90\n    steps:\n      - [warn]",
         "    window_days: -3\n    steps:\n      - [warn]",
         "ladders.conduct.window_days: must be an integer >= 1"),
        ("    ladder: spam", "    ladder: nowhere", "no ladder named 'nowhere'"),
        ("  other_domains: escalate", "  other_domains: maybe", "must be spam, escalate or allow"),
    ],
)  # fmt: skip
def test_policy_errors_name_the_line(old: str, new: str, message: str) -> None:
    files = replace_in_policy(old, new)
    found = errors(files)
    matching = [e for e in found if message in e]
    assert matching, found
    line = int(matching[0].split(":")[1])
    changed = next(x for x in new.splitlines() if x.strip() and x not in old.splitlines())
    assert files["policy.yaml"].splitlines()[line - 1] == changed


def test_yaml_syntax_error_has_a_line() -> None:
    files = replace_in_policy("  insult:\n", "  insult: [\n")
    (issue,) = check_pack(files)
    assert issue.file == "policy.yaml" and issue.line > 1 and "YAML syntax" in issue.message


def test_missing_category_is_an_error() -> None:
    files = mini_files()
    text = files["policy.yaml"]
    start = text.index("  off_topic:\n")
    end = text.index("  confidential:\n")
    files["policy.yaml"] = text[:start] + text[end:]
    assert any("category 'off_topic' is missing" in e for e in errors(files))


def test_parse_raises_with_every_error() -> None:
    files = mini_files(**{"lexicons/it/spam.txt": "a*b\nc*d\n"})
    with pytest.raises(PackError) as info:
        parse_pack(files)
    assert len(info.value.issues) == 2


def test_bundle_round_trip_and_fingerprint() -> None:
    files = mini_files()
    assert unbundle_pack(bundle_pack(files)) == files
    one = parse_pack(files)
    two = parse_pack(mini_files(**{"lexicons/it/spam.txt": "guadagna subito\nvinci ora\n"}))
    assert one.version == two.version and one.policy_version != two.policy_version
    with pytest.raises(PackError):
        unbundle_pack(b'{"format": "something else"}')
    with pytest.raises(PackError):
        unbundle_pack(b"\xff not json")
