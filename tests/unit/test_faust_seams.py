"""What the worker relies on inside faust-streaming and aiokafka, checked so that an upgrade that
changes it fails here instead of silently losing comments or strikes.

Each seam's module names the version it was written against; the integration tests
(``test_worker_kills``, ``test_worker``) prove the behaviour end to end on a real broker.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version

import faust
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.producer.message_accumulator import BatchBuilder, MessageAccumulator, MessageBatch
from faust.app.base import App
from faust.streams import Stream
from faust.tables.base import Collection
from faust.transport.consumer import Consumer, Fetcher, ThreadDelegateConsumer
from faust.transport.drivers import aiokafka as aiokafka_driver

from streamproc.worker import _handoff
from streamproc.worker._handoff import BatchConsumer, BatchTransport
from streamproc.worker._publisher import faust_producer

VERIFIED = {"faust-streaming": "0.15.3", "aiokafka": "0.14.0"}


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_the_installed_versions_are_the_ones_the_seams_were_verified_against() -> None:
    # An upgrade must re-verify every check below (and the kill tests) before this changes.
    assert {name: version(name) for name in VERIFIED} == VERIFIED


def test_the_fetcher_runs_the_consumers_drain_loop() -> None:
    assert "consumer._drain_messages(self)" in inspect.getsource(Fetcher._fetcher.fun)
    assert parameters(Consumer._drain_messages) == ["self", "fetcher"]


def test_the_fetch_primitive_returns_records_and_active_partitions() -> None:
    source = inspect.getsource(Consumer._wait_next_records)
    assert parameters(Consumer._wait_next_records) == ["self", "timeout"]
    assert "can_resume_flow" in source  # it waits while flow is stopped (a rebalance)
    assert "return records, active_partitions" in source


def test_the_aiokafka_transport_builds_its_consumer_from_the_class_attribute() -> None:
    assert BatchTransport.Consumer is BatchConsumer
    assert issubclass(BatchConsumer, aiokafka_driver.Consumer)
    assert "self.Consumer(" in inspect.getsource(aiokafka_driver.Transport.create_consumer)


def test_every_way_faust_moves_a_position_is_overridden() -> None:
    # A seek the hand-off did not see would make it claim offsets it did not read.
    for name in ("perform_seek", "_seek", "seek_wait"):
        assert name in vars(BatchConsumer), name
        base = getattr(aiokafka_driver.Consumer, name)
        assert parameters(getattr(BatchConsumer, name)) == parameters(base), name
    assert "await self._seek(" in inspect.getsource(Consumer.seek)


def test_revocation_and_shutdown_wait_for_the_consumer_to_be_empty() -> None:
    assert "_consumer_wait_empty" in inspect.getsource(App._on_partitions_revoked)
    assert "consumer.wait_empty()" in inspect.getsource(App._consumer_wait_empty)
    assert "self.wait_empty()" in inspect.getsource(Consumer.on_stop)
    assert "self._on_partitions_revoked" in inspect.getsource(Consumer.on_partitions_revoked)


def test_stream_iteration_still_acknowledges_skipped_events() -> None:
    # The defect the hand-off avoids. If upstream stops acknowledging what it skips, the
    # hand-off is still correct, but this note in its docstring is then out of date.
    assert "value is skipped_value" in inspect.getsource(Stream._c_aiter)
    assert "skips" in (_handoff.__doc__ or "")


def test_commits_can_be_run_on_the_consumer_thread() -> None:
    assert "_thread" in ThreadDelegateConsumer.__annotations__
    assert parameters(aiokafka_driver.AIOKafkaConsumerThread.call_thread)[:2] == ["self", "fun"]
    assert "_ensure_consumer" in vars(aiokafka_driver.AIOKafkaConsumerThread)


def test_tables_expose_their_data_and_changelog_sender() -> None:
    # TableStrikeStore reads `table.data` and writes through `send_changelog(partition, ...)`.
    assert parameters(Collection.send_changelog)[:4] == ["self", "partition", "key", "value"]
    assert "data" in inspect.getsource(Collection)


def test_faust_looks_transports_up_by_url_scheme() -> None:
    _handoff.register()
    assert faust.transport.by_url(f"{_handoff.SCHEME}://localhost:9092") is BatchTransport


def test_faust_producer_holds_the_aiokafka_producer_it_built_from_the_apps_settings() -> None:
    # _publisher.faust_producer: Producer._ensure_producer() is the started AIOKafkaProducer,
    # created in on_start from the producer_* settings (acks, batch and request sizes).
    ensure = inspect.getsource(aiokafka_driver.Producer._ensure_producer)
    assert parameters(aiokafka_driver.Producer._ensure_producer) == ["self"]
    assert "return self._producer" in ensure
    assert "self._producer = self._new_producer()" in inspect.getsource(
        aiokafka_driver.Producer.on_start
    )
    defaults = inspect.getsource(aiokafka_driver.Producer._settings_default)
    for setting in ('"acks"', '"max_batch_size"', '"max_request_size"', '"linger_ms"'):
        assert setting in defaults, setting

    class App:
        class producer:  # the shape of app.producer
            @staticmethod
            def _ensure_producer() -> str:
                return "the aiokafka producer"

    assert faust_producer(App()) == "the aiokafka producer"  # type: ignore[comparison-overlap]


def test_aiokafka_takes_whole_batches_per_partition_in_order() -> None:
    # _publisher.BatchPublisher: create_batch / send_batch(batch, topic, *, partition), and a
    # partition's batches queue one after the other (add_batch waits for the one before).
    assert parameters(AIOKafkaProducer.send_batch) == ["self", "batch", "topic", "partition"]
    assert inspect.signature(AIOKafkaProducer.send_batch).parameters["partition"].kind is (
        inspect.Parameter.KEYWORD_ONLY
    )
    assert parameters(AIOKafkaProducer.create_batch) == ["self"]
    assert "wait_drain" in inspect.getsource(MessageAccumulator.add_batch)
    # A closed builder is sent at once, not after the linger time.
    assert "self._builder.closed()" in inspect.getsource(MessageBatch.remaining_linger)


def test_a_batch_builder_takes_its_first_record_whatever_its_size_and_refuses_when_full() -> None:
    builder = BatchBuilder(100, 0, is_transactional=False)  # no compression
    assert builder.append(timestamp=None, key=b"k", value=b"x" * 500, headers=[]) is not None
    assert builder.append(timestamp=None, key=b"k", value=b"y", headers=[]) is None
    assert builder.closed()


def test_the_consumer_thread_builds_the_aiokafka_consumer_the_fetch_wait_is_set_on() -> None:
    # _handoff.BatchConsumerThread: Faust builds its consumer thread in _new_consumer_thread,
    # the thread builds the aiokafka consumer in _create_worker_consumer (with a 1.5 s fetch
    # wait), and the consumer hands _fetch_max_wait_ms to its fetcher when it starts.
    assert "AIOKafkaConsumerThread(self" in inspect.getsource(
        aiokafka_driver.Consumer._new_consumer_thread
    )
    assert parameters(aiokafka_driver.AIOKafkaConsumerThread._create_worker_consumer) == [
        "self",
        "transport",
    ]
    assert "fetch_max_wait_ms=1500" in inspect.getsource(
        aiokafka_driver.AIOKafkaConsumerThread._create_worker_consumer
    )
    assert "self._create_worker_consumer(" in inspect.getsource(
        aiokafka_driver.AIOKafkaConsumerThread._create_consumer
    )
    assert "fetch_max_wait_ms=self._fetch_max_wait_ms" in inspect.getsource(AIOKafkaConsumer.start)
    assert issubclass(_handoff.BatchConsumerThread, aiokafka_driver.AIOKafkaConsumerThread)


def test_the_group_coordinator_rejoins_on_request_and_reads_any_partitions_offsets() -> None:
    # _handoff.BatchConsumer.group_member / request_rejoin / group_committed (the idle-member
    # watchdog): the aiokafka consumer's _coordinator holds generation -1 and member id ""
    # until the group accepts it (and again after a reset); request_rejoin() sets the future
    # the coordination routine waits on, which makes need_rejoin() true and runs a new join
    # (revoke, join, sync, assign: Faust's callbacks resume the partitions); and
    # fetch_committed_offsets(partitions) returns {TopicPartition: OffsetAndMetadata}.
    from aiokafka.consumer.group_coordinator import GroupCoordinator
    from aiokafka.protocol.commit import OffsetCommitRequest
    from aiokafka.protocol.group import JoinGroupRequest

    assert "self._coordinator = GroupCoordinator(" in inspect.getsource(AIOKafkaConsumer.start)
    assert OffsetCommitRequest.DEFAULT_GENERATION_ID == -1
    assert JoinGroupRequest.UNKNOWN_MEMBER_ID == ""
    init = inspect.getsource(GroupCoordinator.__init__)
    assert "self.generation = OffsetCommitRequest.DEFAULT_GENERATION_ID" in init
    assert "self.member_id = JoinGroupRequest.UNKNOWN_MEMBER_ID" in init
    assert "self._rejoin_needed_fut.set_result(None)" in inspect.getsource(
        GroupCoordinator.request_rejoin
    )
    assert "self._rejoin_needed_fut.done()" in inspect.getsource(GroupCoordinator.need_rejoin)
    routine = inspect.getsource(GroupCoordinator._GroupCoordinator__coordination_routine)
    assert "futures.append(self._rejoin_needed_fut)" in routine
    assert "self.need_rejoin(subscription)" in routine
    assert "on_partitions_revoked" in inspect.getsource(GroupCoordinator._on_join_prepare)
    assert parameters(GroupCoordinator.fetch_committed_offsets) == ["self", "partitions"]
    # A join in progress: from _on_join_prepare's begin_reassignment to the assignment.
    from aiokafka.consumer.subscription_state import Subscription, SubscriptionState

    assert "self._subscription.begin_reassignment()" in inspect.getsource(
        GroupCoordinator._on_join_prepare
    )
    assert isinstance(vars(SubscriptionState)["reassignment_in_progress"], property)
    assert "self._reassignment_in_progress = True" in inspect.getsource(
        Subscription._begin_reassignment
    )
    assert "self._reassignment_in_progress = False" in inspect.getsource(Subscription._assign)
    assert "self._subscription = SubscriptionState(" in inspect.getsource(AIOKafkaConsumer.__init__)
    # Faust's recovery resumes the comment partitions and the flow once a rebalance is done.
    from faust.tables.recovery import Recovery

    completed = inspect.getsource(Recovery.on_recovery_completed)
    assert "consumer.resume_partitions(" in completed and "consumer.resume_flow()" in completed
    thread = aiokafka_driver.AIOKafkaConsumerThread
    assert "_consumer" in thread.__annotations__ and thread._consumer is None  # until started
    assert "self._consumer = self._create_consumer(" in inspect.getsource(thread.on_start)
    for name in ("group_member", "request_rejoin", "group_committed"):
        assert name in vars(BatchConsumer), name
