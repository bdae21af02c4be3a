"""Every benchmark module imports: CI runs them only after lint, types and before the tests, so a
broken import there (a renamed export, say) must fail here too, in seconds."""

import importlib
import pkgutil

import pytest

import benchmarks

MODULES = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__))


def test_there_are_benchmark_modules() -> None:
    assert {"bench_engine", "bench_worker"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_benchmark_module_imports(name: str) -> None:
    importlib.import_module(f"benchmarks.{name}")


def test_loop_deliveries_are_signed_webhooks_with_fresh_ids() -> None:
    from benchmarks.bench_loop import deliveries, sample
    from streamproc.connect._signatures import meta_signature, x_signature
    from streamproc.local.platforms import Accounts

    accounts = Accounts()
    comments = sample()
    items = deliveries(comments, len(comments) * 2, accounts)
    assert {d.platform for d in items} == {"facebook", "instagram", "twitter"}
    assert len({d.comment_id for d in items}) == len(items)  # every pass: fresh comment ids
    first, second = items[0], items[len(comments)]
    assert first.author != second.author  # ... and fresh authors: no strike carries over
    for item in items:
        if item.platform == "twitter":
            expected = x_signature(accounts.twitter_consumer_secret, item.body)
            assert item.headers == {"x-twitter-webhooks-signature": expected}
        else:
            expected = meta_signature(accounts.facebook_app_secret, item.body)
            assert item.headers == {"X-Hub-Signature-256": expected}
        if item.target is not None:
            assert item.comment_id == f"{item.platform}:{item.target}"
            assert item.target.encode() in item.body
    assert any(d.target is None for d in items)  # private messages too


def test_loop_calls_are_paired_with_the_comment_they_name() -> None:
    from benchmarks.bench_loop import call_shape, call_target, first_calls
    from streamproc.local.platforms import Call

    def call(platform: str, method: str, path: str, body: object = None, at: float = 0) -> Call:
        return Call(platform, method, path, {}, body, at)

    hide = call("graph", "POST", "/901_00000001", {"is_hidden": "true"}, at=2.0)
    private = call("graph", "POST", "/123/messages", {"recipient": {"comment_id": "901_00000001"}})
    assert call_target(hide) == call_target(private) == "901_00000001"
    assert call_target(call("graph", "POST", "/901_2/comments", {"message": "hi"})) == "901_2"
    assert call_target(call("graph", "POST", "/123/messages", {"recipient": {"id": "7"}})) is None
    assert call_target(call("graph", "POST", "/123/blocked", {"user": "7"})) is None
    assert call_target(call("graph", "GET", "/901_2")) is None
    assert call_target(call("x", "PUT", "/2/tweets/199/hidden", {"hidden": True})) == "199"
    reply = call("x", "POST", "/2/tweets", {"text": "t", "reply": {"in_reply_to_tweet_id": "199"}})
    assert call_target(reply) == "199"
    assert call_target(call("x", "POST", "/2/users/22/blocking", {"target_user_id": "7"})) is None
    later = call("graph", "POST", "/901_00000001/comments", {"message": "x"}, at=5.0)
    assert first_calls([later, hide, private]) == {"901_00000001": 0.0}
    assert call_shape(reply) == "x POST /2/tweets"
    assert call_shape(hide) == "graph POST /{id}"


def test_loop_figures() -> None:
    import math

    import orjson

    from benchmarks.bench_loop import alone_lines, per_s, percentiles_ms, thin_ms

    figures = percentiles_ms([i / 1000 for i in range(1, 101)])  # 1..100 ms
    assert figures["p50_ms"] == 51 and figures["p99_ms"] == 100 and figures["max_ms"] == 100
    assert math.isclose(figures["mean_ms"], 50.5)
    assert math.isnan(percentiles_ms([])["p50_ms"])
    assert thin_ms([0.003, 0.001, 0.002]) == [1.0, 2.0, 3.0]
    assert len(thin_ms([i / 1000 for i in range(5000)])) == 1000
    assert per_s(100, 10.0, 12.0) == 50 and math.isnan(per_s(5, 1.0, 1.0))
    published = [
        {"id": "facebook:1", "author": {"id": "9"}, "platform": {"user_id": "9", "comment_id": "1"}}
    ]
    lines = alone_lines(published, 3)
    docs = [orjson.loads(line) for line in lines]
    assert [d["id"] for d in docs] == [f"facebook:1~alone{k}" for k in (1, 2, 3)]
    assert len({d["author"]["id"] for d in docs}) == 3
    assert all(d["platform"]["user_id"] == d["author"]["id"] for d in docs)
    assert all(d["platform"]["comment_id"] == "1" for d in docs)


def test_engine_paths_split_the_comments_by_how_they_are_decided() -> None:
    import orjson

    from benchmarks.bench_engine import comment_path, path_costs
    from benchmarks.corpus import public_comment
    from streamproc.core import (
        DEFAULT_PACK_PATH,
        Engine,
        decode_comment,
        parse_pack,
        read_pack_files,
    )

    engine = Engine(parse_pack(read_pack_files(DEFAULT_PACK_PATH)))
    texts = {
        "allowed": "Grazie per le informazioni sul bando INAIL, molto utili.",
        "weighed": "Sei proprio uno stronzo, vergognati.",
        "personal_data": "Chiamatemi al 347 123 4567 per la mia pratica di infortunio.",
    }
    lines = [orjson.dumps(public_comment(t)) for t in texts.values()]
    for path, line in zip(texts, lines, strict=True):
        assert comment_path(engine, decode_comment(line, 10_000)) == path
    costs = path_costs(engine, lines * 2, repeats=1)
    assert list(costs) == list(texts)
    assert all(v["share"] == 1 / 3 for v in costs.values())
    assert sum(v["share_of_time"] for v in costs.values()) == pytest.approx(1.0)
    assert all(v["us_per_comment"] > 0 for v in costs.values())
