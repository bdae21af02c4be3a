"""``streamproc publish`` with bad lines: each goes to the dead-letter topic with its reason."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson
import pytest

from streamproc.kafka import KafkaSettings, TopicDeclarations

from ._streaming import comment, read_dead_letters, streamproc_command, unique

pytestmark = pytest.mark.kafka


def test_bad_lines_reach_the_dead_letter_topic_and_the_summary_counts_everything(
    kafka_topics: TopicDeclarations,
    kafka_env: dict[str, str],
    kafka_settings: KafkaSettings,
    tmp_path: Path,
) -> None:
    run = unique()
    good = comment("Grazie per le informazioni", author=f"{run}-a")
    markers = {kind: f"{run}-{kind}" for kind in ("broken", "nochannel", "unknown", "huge")}
    lines = [
        orjson.dumps(good),
        b"{broken " + markers["broken"].encode(),
        b"",
        orjson.dumps({"id": markers["nochannel"], "text": "x"}),
        orjson.dumps({**good, "id": markers["unknown"], "channel": "myspace"}),
        b"   ",
        orjson.dumps({**good, "id": markers["huge"], "text": "a" * 10_000_000}),
    ]
    source = tmp_path / "comments.ndjson"
    source.write_bytes(b"\n".join(lines) + b"\n")
    result = subprocess.run(
        [*streamproc_command(), "publish", str(source)],
        env=kafka_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "published 1 comments from 7 lines" in result.stderr
    assert "2 blank lines skipped" in result.stderr
    assert "4 lines sent to moderation.deadletter instead" in result.stderr
    assert "Traceback" not in result.stderr

    letters = read_dead_letters(kafka_settings, markers.values())
    kinds = {
        name: dict(letters[marker][0].headers)["streamproc.error"]
        for name, marker in markers.items()
    }
    assert kinds == {
        "broken": b"invalid_json",
        "nochannel": b"invalid_comment",
        "unknown": b"invalid_comment",
        "huge": b"too_large",
    }
    huge = letters[markers["huge"]][0]
    assert dict(huge.headers)["streamproc.source"] == f"{source}:7".encode()
    assert int(dict(huge.headers)["streamproc.value_size"]) > 10_000_000
    assert len(huge.value) <= 256 * 1024
