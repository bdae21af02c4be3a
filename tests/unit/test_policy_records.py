"""Records on the policy topic: a bad one is logged, counted and skipped, never a crash."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamproc.core import (
    DEFAULT_PACK_PATH,
    PackError,
    bundle_pack,
    parse_pack,
    read_pack_files,
    unbundle_pack,
)
from streamproc.kafka import KafkaSettings
from streamproc.worker import PolicyWatcher, WorkerMetrics

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def watcher() -> PolicyWatcher:
    return PolicyWatcher(KafkaSettings(), "moderation.policy", WorkerMetrics())


@pytest.mark.parametrize(
    "record",
    [
        b"[]",
        b'"x"',
        b"42",
        b"null",
        b"{}",
        b'{"format": "streamproc.pack/1"}',
        b'{"format": "streamproc.pack/1", "files": []}',
        b'{"format": "streamproc.pack/1", "files": {"a": 1}}',
        b"\xff\xfe",
        b"{",
        orjson.dumps({"format": "streamproc.pack/1", "files": {"policy.yaml": "[1, 2"}}),
        orjson.dumps({"format": "streamproc.pack/1", "files": {"policy.yaml": "\x1f"}}),
    ],
)
def test_a_malformed_policy_record_is_counted_and_skipped(record: bytes) -> None:
    w = watcher()
    assert w._compile(record, 7) is None
    assert w.metrics.policy_reloads.labels("invalid")._value.get() == 1


def test_a_valid_bundle_compiles() -> None:
    w = watcher()
    engine = w._compile(bundle_pack(read_pack_files(DEFAULT_PACK_PATH)), 0)
    assert engine is not None
    assert w.metrics.policy_reloads.labels("invalid")._value.get() == 0


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200) | JSON.map(orjson.dumps))
def test_unbundle_pack_takes_any_bytes(data: bytes) -> None:
    try:
        files = unbundle_pack(data)
    except PackError:
        return
    assert isinstance(files, dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["policy.yaml", "lexicons/it/insult.txt", "allowlist/it.txt", "x.txt"]),
        st.text(max_size=300) | JSON.map(lambda v: orjson.dumps(v).decode()),
        max_size=4,
    )
)
def test_parse_pack_reports_any_text_as_issues(files: dict[str, str]) -> None:
    try:
        parse_pack(files)
    except PackError as exc:
        assert exc.issues
