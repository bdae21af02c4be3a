"""Every benchmark module imports: CI runs them only after lint, types and before the tests, so a
broken import there (a renamed export, say) must fail here too, in seconds."""

import importlib
import importlib.util
import pkgutil
from pathlib import Path

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


def test_the_suite_parses_the_streaming_options() -> None:
    from benchmarks.__main__ import parser

    args = parser().parse_args(
        ["--only", "streaming", "--stream-count", "20000", "--stream-rounds", "2"]
    )
    assert (args.stream_count, args.stream_rounds) == (20_000, 2)
    assert args.naive_transport == ("kafka",)  # the confluent agent is not in the default rounds
    both = parser().parse_args(["--naive-transport", "kafka, confluent,kafka"])
    assert both.naive_transport == ("kafka", "confluent")
    assert parser().parse_args(["--naive-transport", "confluent"]).naive_transport == ("confluent",)
    defaults = parser().parse_args([])
    assert defaults.stream_count is None and defaults.stream_rounds is None


@pytest.mark.parametrize(
    "argv",
    [
        ["--stream-count", "0"],
        ["--stream-rounds", "-1"],
        ["--stream-count", "many"],
        ["--naive-transport", "rabbitmq"],
        ["--naive-transport", ","],
    ],
)
def test_the_suite_refuses_bad_streaming_options(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks.__main__ import parser

    with pytest.raises(SystemExit) as exit_info:
        parser().parse_args(argv)
    assert exit_info.value.code == 2
    assert argv[0] in capsys.readouterr().err


def test_streaming_options_take_the_overrides() -> None:
    from benchmarks.bench_worker import StreamingOptions

    full = StreamingOptions.for_mode(False)
    assert (full.count, full.rounds) == (200_000, 3)
    short = StreamingOptions.for_mode(False, count=20_000, rounds=2)
    assert (short.count, short.rounds) == (20_000, 2)
    assert short.load_points == full.load_points and short.latency_seconds == 20.0
    quick = StreamingOptions.for_mode(True, rounds=2)
    assert (quick.count, quick.rounds, quick.load_points) == (50_000, 2, (0.5,))
    with pytest.raises(ValueError, match="round"):
        StreamingOptions.for_mode(False, rounds=0)


def test_the_full_streaming_systems_follow_what_is_installed() -> None:
    from benchmarks.__main__ import installed, streaming_systems

    every = streaming_systems(["kafka", "confluent"], quix=True, confluent=True)
    assert [s.name for s in every] == [
        "naive_faust",
        "naive_faust_confluent",
        "quix",
        "confluent_bare",
    ]
    assert [s.trial for s in every] == [False, True, False, False]
    assert len({s.output_topic for s in every}) == 4  # no two systems write the same topic
    plain = streaming_systems(["kafka"], quix=False, confluent=False)
    assert [s.name for s in plain] == ["naive_faust"]
    assert [s.name for s in streaming_systems(["kafka"], quix=True, confluent=False)] == [
        "naive_faust",
        "quix",
    ]
    assert installed("confluent_kafka") == (importlib.util.find_spec("confluent_kafka") is not None)
    assert not installed("no_such_module_for_the_suite")


def test_the_naive_agent_runs_on_either_faust_transport(tmp_path: Path) -> None:
    from benchmarks.naive_faust import NAIVE_OUT, NaiveFaust, build_app

    assert (NaiveFaust().name, NaiveFaust().output_topic) == ("naive_faust", NAIVE_OUT)
    confluent = NaiveFaust("confluent")
    assert confluent.name == "naive_faust_confluent"
    assert confluent.scratch_topics == (f"{NAIVE_OUT}-confluent",)
    with pytest.raises(ValueError, match="transport"):
        NaiveFaust("pulsar")
    for transport in ("kafka", "confluent"):
        app = build_app("localhost:9", f"unit-{transport}", tmp_path / transport, transport)
        [url] = app.conf.broker
        assert (url.scheme, url.host, url.port) == (transport, "localhost", 9)


def test_the_librdkafka_loop_is_configured_like_the_aiokafka_one() -> None:
    from benchmarks.confluent_loop import ConfluentBare, consumer_config, producer_config

    consumer = consumer_config("localhost:9", "g")
    assert consumer["enable.auto.commit"] is False  # committed once the batch is delivered
    assert (consumer["group.id"], consumer["auto.offset.reset"]) == ("g", "earliest")
    producer = producer_config("localhost:9")
    assert (producer["acks"], producer["linger.ms"]) == ("all", 5)
    assert ConfluentBare.scratch_topics == (ConfluentBare.output_topic,)
    if importlib.util.find_spec("confluent_kafka") is not None:
        from confluent_kafka import Consumer, Producer

        Producer(producer).flush(0)  # librdkafka accepts every property
        Consumer(consumer).close()


def test_a_loop_round_needs_one_output_per_comment() -> None:
    from benchmarks.bench_worker import output_problem
    from benchmarks.kafka_tools import Output

    def out(keys: list[bytes]) -> Output:
        return Output(keys=list(keys), stamps=[1] * len(keys))

    assert output_problem(3, out([b"a", b"b", b"c"])) is None
    assert output_problem(3, out([b"a", b"b"])) == "2 output records for 3 comments"
    assert output_problem(3, out([b"a", b"b", b"b"])) == "1 duplicate outputs (3 records)"


def _round(per_s: float, cpu: float = 10.0) -> dict[str, float]:
    return {"per_s": per_s, "cpu_us_per_msg": cpu, "broker_cpu_us_per_msg": 1.0}


def test_the_streaming_section_compares_every_system_and_records_a_failed_trial() -> None:
    from benchmarks.bench_worker import _section

    rounds = [
        {
            "bare": _round(1000),
            "worker": {**_round(1000 * k), "startup_seconds": 2.0},
            "confluent_bare": _round(2000 * k),
            "naive_faust_confluent": {
                "kind": "x",
                "failed": "wrote no output record",
                "log": "...",
            },
        }
        for k in (1.0, 1.5)
    ]
    results = {"preload": {}, "rounds": rounds, "latency": {}}
    section = _section(results, ["confluent_bare", "naive_faust_confluent"])
    ratios = section["ratios"]
    assert ratios["streaming.confluent_bare_vs_bare"]["rounds"] == [2.0, 3.0]
    assert ratios["streaming.confluent_bare_vs_bare"]["value"] == 2.5
    assert ratios["streaming.worker_vs_confluent_bare"]["rounds"] == [0.5, 0.5]
    assert ratios["streaming.worker_vs_bare"]["value"] == 1.25
    assert not [name for name in ratios if "naive_faust_confluent" in name]
    failed = section["figures"]["naive_faust_confluent"]
    assert failed == {"failed_rounds": 2, "failure": "wrote no output record"}
    assert set(section["series"]["throughput"]) == {"bare", "worker", "confluent_bare"}


def test_the_latency_warmup_is_recorded_apart_from_the_measured_loads() -> None:
    from benchmarks.bench_worker import StreamingOptions, _section

    for quick in (True, False):
        options = StreamingOptions.for_mode(quick)
        assert options.warmup_windows >= 2 and options.warmup_seconds > 0
    keys = "target_rate published_rate paired p50_ms p95_ms p99_ms max_ms histogram_p99_ms"
    keys += " worker_cpu_cores broker_cpu_cores window_seconds"
    point = {key: 1.0 for key in keys.split()} | {"latencies_ms": [1, 2]}
    cold = [point | {"p99_ms": 700.0, "broker_cpu_cores": 0.9}, point]
    rounds = [{"bare": _round(1000), "worker": {**_round(1500), "startup_seconds": 2.0}}]
    results = {"preload": {}, "rounds": rounds, "latency": {"50%": point}, "latency_warmup": cold}
    figures = _section(results, [])["figures"]
    assert figures["latency"]["50%"]["p99_ms"] == 1.0
    assert figures["latency_warmup"]["windows"] == 2
    assert figures["latency_warmup"]["p99_ms"] == [700.0, 1.0]
    assert figures["latency_warmup"]["broker_cpu_cores"] == [0.9, 1.0]
    assert set(_section(results, [])["series"]["latency"]) == {
        "worker at 50% of the worker's max (1/s)"
    }
    assert "latency_bare" not in figures  # not measured: no figures, no ratio
    assert not [name for name in _section(results, [])["ratios"] if "latency" in name]


def test_the_bare_loops_latency_is_the_worker_tails_baseline_at_the_same_rate() -> None:
    from benchmarks.bench_worker import _section

    keys = "target_rate published_rate paired p50_ms p95_ms p99_ms max_ms histogram_p99_ms"
    keys += " worker_cpu_cores broker_cpu_cores window_seconds"
    point = {key: 1.0 for key in keys.split()} | {"latencies_ms": [1, 2]}
    worker = {"25%": point | {"p99_ms": 10.0}, "50%": point | {"p99_ms": 80.0}}
    bare = {"25%": point | {"p99_ms": 90.0}, "50%": point | {"p99_ms": 40.0}}
    rounds = [{"bare": _round(1000), "worker": {**_round(1500), "startup_seconds": 2.0}}]
    results = {"preload": {}, "rounds": rounds, "latency": worker, "latency_bare": bare}
    section = _section(results, [])
    tail = section["ratios"]["streaming.latency_p99_bare_vs_worker"]
    assert tail["value"] == 0.5  # at half the worker's max only: 40 ms ÷ 80 ms
    assert (tail["worker_p99_ms"], tail["bare_p99_ms"]) == (80.0, 40.0)
    assert section["figures"]["latency_bare"]["25%"]["p99_ms"] == 90.0
    assert "histogram_p99_ms" not in section["figures"]["latency_bare"]["50%"]
    assert len(section["series"]["latency"]) == 4
    assert "bare loop at 50% of the worker's max (1/s)" in section["series"]["latency"]


def test_the_warmup_ends_once_the_broker_cpu_stops_falling() -> None:
    from benchmarks.bench_worker import settled

    def windows(*cores: float) -> list[dict[str, float]]:
        return [{"broker_cpu_cores": c} for c in cores]

    assert not settled(windows(0.6))  # one window says nothing about the trend
    assert not settled(windows(0.6, 0.41))
    assert not settled(windows(0.6, 0.41, 0.26))
    assert settled(windows(0.6, 0.41, 0.26, 0.25))
    assert settled(windows(0.25, 0.3))  # a busier window than the last one: no longer falling


def _swap_stamps(rate: float, seconds: float, start_ms: int = 1_000_000) -> list[int]:
    step = 1000.0 / rate
    return [start_ms + int(i * step) for i in range(int(rate * seconds))]


def test_swap_analysis_measures_the_dip_around_a_swap_within_the_backlog() -> None:
    from benchmarks.bench_scale import swap_analysis

    start = 1_000_000
    stamps = _swap_stamps(1000, 20, start)
    # Nothing decided from 8.0 to 9.0 s (a stall), the new policy from 12 s on.
    stamps = [s for s in stamps if not (start + 8000 <= s < start + 9000)]
    versions = ["old" if s < start + 12_000 else "new" for s in stamps]
    result = swap_analysis(stamps, versions, start / 1000 + 6.0, start / 1000 + 7.0)
    assert result["void_reason"] is None
    assert result["steady_per_s"] == 1000
    assert result["seconds_to_swap"] == pytest.approx(6.0)
    assert result["longest_below_half_seconds"] == pytest.approx(1.0)
    assert result["lowest_bin_fraction"] == 0


def test_swap_analysis_is_void_when_the_backlog_runs_out_before_the_swap() -> None:
    from benchmarks.bench_scale import swap_analysis

    start = 1_000_000
    stamps = _swap_stamps(1000, 9, start)
    result = swap_analysis(stamps, ["old"] * len(stamps), start / 1000 + 4.0, start / 1000 + 5.0)
    assert result["void_reason"] is not None and "ran out" in result["void_reason"]
    early = swap_analysis(stamps, ["old"] * len(stamps), start / 1000 + 1.0, start / 1000 + 2.0)
    assert early["void_reason"] is not None and "steady" in early["void_reason"]


def test_scaleout_medians_leave_out_rounds_without_the_window() -> None:
    from benchmarks.bench_scale import _median_of_measured

    assert _median_of_measured([1.2, float("nan"), 1.4]) == pytest.approx(1.3)
    nothing = _median_of_measured([float("nan")])
    assert nothing != nothing  # still NaN: no round measured it
