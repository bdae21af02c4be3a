"""Pausing a pack compilation (core ``pausing``) and the worker's pacer."""

from __future__ import annotations

import threading

from streamproc.core import Engine, parse_pack, pausing
from streamproc.worker._policy import Pacer
from tests.unit.conftest import mini_files


def _big_files(terms: int) -> dict[str, str]:
    words = "\n".join(f"parolaccia{i:06d}" for i in range(terms))
    return mini_files(**{"lexicons/it/insult.txt": "stronz*\n" + words + "\n"})


def test_a_compilation_calls_the_pause_it_is_given_and_none_otherwise() -> None:
    calls: list[int] = []
    with pausing(lambda: calls.append(1)):
        engine = Engine(parse_pack(_big_files(5000)))
    # Lines of the lexicon, entries of the matcher, automaton keys: every 256 of each.
    assert len(calls) >= 3 * 5000 // 256
    before = len(calls)
    Engine(parse_pack(_big_files(5000)))
    assert len(calls) == before  # outside the block, nothing is called
    assert engine.matcher.key_count > 5000


def test_the_pause_belongs_to_the_thread_that_set_it() -> None:
    calls: list[str] = []
    started = threading.Event()

    def other() -> None:
        started.wait()
        Engine(parse_pack(_big_files(2000)))  # no pausing in this thread

    thread = threading.Thread(target=other)
    thread.start()
    with pausing(lambda: calls.append(threading.current_thread().name)):
        started.set()
        Engine(parse_pack(_big_files(2000)))
    thread.join()
    assert calls and set(calls) == {threading.current_thread().name}


def test_the_pacer_sleeps_in_proportion_to_the_work_done() -> None:
    now = [0.0]
    pacer = Pacer(share=0.25, clock=lambda: now[0])
    pacer()  # no work yet: no pause
    assert pacer.paused == 0.0
    now[0] += 0.004  # 4 ms of work at a quarter share: 12 ms of pause
    pacer()
    assert abs(pacer.paused - 0.012) < 1e-9
    now[0] += 1.0  # a long stretch: the pause is capped so the swap still ends
    pacer()
    assert abs(pacer.paused - 0.062) < 1e-9
