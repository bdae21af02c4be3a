"""`streamproc moderate` and `streamproc policy check` as a user runs them."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
from click.testing import CliRunner

from streamproc.batch import moderate_lines
from streamproc.cli import main
from streamproc.core import DEFAULT_PACK_PATH, Engine, load_pack, read_pack_files


def line(i: int, text: str, author: str = "a") -> bytes:
    return orjson.dumps(
        {
            "id": f"c{i}",
            "channel": "facebook",
            "author": {"id": author},
            "text": text,
            "created_at": "2026-11-18T10:30:00+01:00",
        }
    )


def test_decisions_in_order_with_the_ladder_across_the_file_and_dead_letters() -> None:
    lines = [line(1, "sei uno stronzo"), b"not json", b"   ", line(2, "che stronzata")]
    lines += [b'{"id": 3}', line(4, "Grazie!"), b'{"id": "x", "text": "' + b"a" * 6000 + b'"}']
    out, dead = io.BytesIO(), io.BytesIO()
    summary = moderate_lines(Engine(load_pack()), lines, out, dead)
    decisions = [orjson.loads(x) for x in out.getvalue().splitlines()]
    assert [d["comment_id"] for d in decisions] == ["c1", "c2", "c4"]
    assert [d["actions"] for d in decisions] == [["remove", "warn"], ["remove", "block"], ["allow"]]
    letters = [orjson.loads(x) for x in dead.getvalue().splitlines()]
    assert [(d["line"], d["reason"][:30]) for d in letters] == [
        (2, "invalid JSON: JSON is malforme"),
        (5, "Expected `str`, got `int` - at"),
        (7, "Object missing required field "),
    ]
    assert letters[0]["raw"] == "not json"
    assert (summary.lines, summary.decided, summary.dead_letters, summary.blank) == (7, 3, 3, 1)
    assert "3 decisions from 7 lines" in summary.render()


def test_large_files_keep_their_order_and_ladders() -> None:
    count = 1031
    lines = [
        line(i, "stronzo" if i % 100 == 0 else "ciao", author=f"u{i % 3}") for i in range(count)
    ]
    out = io.BytesIO()
    moderate_lines(Engine(load_pack()), lines, out, io.BytesIO())
    decisions = [orjson.loads(x) for x in out.getvalue().splitlines()]
    assert [d["comment_id"] for d in decisions] == [f"c{i}" for i in range(count)]
    flagged = [d["actions"] for d in decisions if d["actions"] != ["allow"]]
    # u0 offends at 0, 300, 600, 900; u1 at 100, 400...: warn first, block after.
    assert flagged[0] == ["remove", "warn"] and ["remove", "block"] in flagged


def test_the_command_reads_stdin_and_reports_to_stderr(tmp_path: Path) -> None:
    runner = CliRunner()
    data = line(1, "sei un idiota") + b"\n" + b"{broken\n"
    result = runner.invoke(main, ["moderate"], input=data)
    assert result.exit_code == 1  # a line went to the dead-letter output, as linters report
    decision = orjson.loads(result.stdout.splitlines()[0])
    assert decision["categories"] == ["insult"]
    assert "1 decisions from 2 lines" in result.stderr
    assert '"line":2' in result.stderr  # the dead letter goes to stderr by default
    assert '"error":"invalid_json","reason"' in result.stderr
    assert '"source":"stdin:2"' in result.stderr
    clean = runner.invoke(main, ["moderate"], input=line(1, "Grazie"))
    assert clean.exit_code == 0


def test_policy_check_reports_file_and_line(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["policy", "check", str(DEFAULT_PACK_PATH)])
    assert ok.exit_code == 0 and "OK" in ok.stdout
    pack = tmp_path / "pack"
    for name, text in read_pack_files(DEFAULT_PACK_PATH).items():
        (pack / name).parent.mkdir(parents=True, exist_ok=True)
        (pack / name).write_text(text)
    spam = pack / "lexicons/it/spam.txt"
    spam.write_text(spam.read_text() + "\nbad*pattern\n")
    bad = runner.invoke(main, ["policy", "check", str(pack)])
    assert bad.exit_code == 1
    number = len(spam.read_text().splitlines())
    assert f"lexicons/it/spam.txt:{number}: error:" in bad.stderr


def test_every_naughty_string_through_the_command(tmp_path: Path) -> None:
    """The Big List of Naughty Strings as texts and as author ids, and the raw strings as lines:
    one decision or one dead letter for every non-blank line, and the command ends normally."""
    from .test_hostile_input import BLNS

    lines = [line(i, s) for i, s in enumerate(BLNS)]
    lines += [line(len(BLNS) + i, "ciao", author=s) for i, s in enumerate(BLNS)]
    raw = [s.encode() for s in BLNS if "\n" not in s and "\r" not in s]
    source = tmp_path / "naughty.ndjson"
    source.write_bytes(b"\n".join(lines + raw) + b"\n")
    dead = tmp_path / "dead.ndjson"
    result = CliRunner().invoke(
        main, ["moderate", str(source), "-o", str(tmp_path / "out"), "--dead-letter", str(dead)]
    )
    assert result.exit_code == 1, result.output  # some raw lines are not JSON
    decisions = (tmp_path / "out").read_bytes().splitlines()
    letters = [orjson.loads(x) for x in dead.read_bytes().splitlines()]
    blank = sum(1 for s in raw if not s.strip())
    assert len(decisions) + len(letters) + blank == len(lines) + len(raw)
    assert len(decisions) >= 2 * len(BLNS) - 1  # every comment but the empty author id
    assert {d["error"] for d in letters} <= {"invalid_json", "invalid_comment"}
    assert all(d["source"].endswith(f":{d['line']}") for d in letters)
