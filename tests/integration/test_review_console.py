"""The review console end to end: a real broker, the `streamproc review serve` process on an
SQLite file, and Debian's chromium driven through its chromedriver (no browser download).

Decisions (made by the real engine on sample comments) and their comments go in; cases appear;
a bad record becomes a dead letter; a reviewer signs in, opens a case (matches highlighted,
the author masked), overturns it, and the overturn goes out on moderation.reviews in the format
the worker applies; a reviewer cannot open an employee's case, compliance can.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from streamproc.core import Engine, MemoryStrikeStore, load_pack
from streamproc.kafka import KafkaSettings, TopicDeclarations
from streamproc.local import ChildProcess, free_port, service_env, streamproc_command
from streamproc.local.platforms import StandIns
from streamproc.review import Store, open_database
from streamproc.worker._pipeline import _parse_review as worker_parse_review

from ._platforms import Service as StreamprocService
from ._platforms import validate, wait_for
from ._streaming import _read, read_dead_letters, streamproc_env, unique

pytestmark = pytest.mark.kafka

SAMPLES = Path(__file__).parents[2] / "streamproc" / "samples" / "comments.ndjson"
PASSWORD = "a password for the tests"
APPEAL_SECRET = "the appeal secret the sink and the console share in the tests"


def sample(prefix: str) -> dict[str, Any]:
    for line in SAMPLES.read_text().splitlines():
        doc = orjson.loads(line)
        if doc["text"].startswith(prefix):
            return dict(doc)
    raise LookupError(prefix)


class Console:
    def __init__(self, url: str, database: str, process: ChildProcess, metrics: int) -> None:
        self.url = url
        self.database = database
        self.process = process
        self.metrics_port = metrics

    def wait_ready(self) -> None:
        def ready() -> bool:
            self.process.check_alive()
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.metrics_port}/readyz", timeout=2
                ) as r:
                    return bool(r.status == 200)
            except (urllib.error.URLError, OSError):
                return False

        wait_for(ready, 60, "the console to be ready")

    def restart(self) -> None:
        assert self.process.stop() == 0, self.process.log()
        self.process = ChildProcess(
            self.process.argv, self.process.env, self.process.log_path
        ).launch()
        self.wait_ready()

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics") as r:
            return str(r.read().decode())


@pytest.fixture(scope="module")
def console(
    kafka_bootstrap: str, kafka_topics: TopicDeclarations, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Console]:
    directory = tmp_path_factory.mktemp("review")
    database = f"sqlite:///{directory / 'review.db'}"
    port, metrics = free_port(), free_port()
    env = service_env(
        kafka_bootstrap,
        STREAMPROC_REVIEW_DATABASE=database,
        STREAMPROC_REVIEW_PORT=str(port),
        STREAMPROC_REVIEW_METRICS_PORT=str(metrics),
        STREAMPROC_REVIEW_SECURE_COOKIES="0",  # plain HTTP on localhost
        STREAMPROC_REVIEW_GROUP=unique("review-"),
        STREAMPROC_APPEAL_SECRET=APPEAL_SECRET,
        STREAMPROC_APPEAL_BASE_URL=f"http://127.0.0.1:{port}",
    )
    for name, role in (("rita", "reviewer"), ("carlo", "compliance")):
        subprocess.run(
            [*streamproc_command(), "review", "users", "add", name, "--role", role],
            input=f"{PASSWORD}\n", env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
    process = ChildProcess(
        [*streamproc_command(), "review", "serve"], env, directory / "review.log"
    ).launch()
    served = Console(f"http://127.0.0.1:{port}", database, process, metrics)
    served.wait_ready()
    yield served
    assert served.process.stop() == 0, served.process.log()


@pytest.fixture(scope="module")
def cases(console: Console, kafka_settings: KafkaSettings) -> dict[str, dict[str, Any]]:
    """Three comments and their decisions on the broker: an insult for people (the false
    positive), a threat reported to the authorities, an employee's disclosure."""
    engine = Engine(load_pack(None))
    strikes = MemoryStrikeStore()
    made: dict[str, dict[str, Any]] = {}
    for name, prefix in (
        ("consulting", "Servizi di consulenza per bando ISI"),
        ("threat", "Al medico legale"),
        ("employee", "Vi anticipo la circolare"),
    ):
        doc = sample(prefix)
        doc["id"] = unique(f"{doc['channel']}:")
        doc["author"] = {**doc["author"], "id": unique("author-"), "name": "Maria Rossi"}
        made[name] = {"comment": doc, "decision": engine.moderate(doc, strikes)}
    bad = unique("not-a-decision-")

    async def produce() -> None:
        producer = AIOKafkaProducer(**kafka_settings.client_kwargs())
        await producer.start()
        try:
            for item in made.values():
                c, d = item["comment"], item["decision"]
                await producer.send_and_wait(
                    f"comments.{c['channel']}", orjson.dumps(c), key=c["author"]["id"].encode()
                )
                await producer.send_and_wait(
                    "moderation.actions", orjson.dumps(d), key=d["comment_id"].encode()
                )
            await producer.send_and_wait("moderation.actions", f'{{"x": "{bad}"}}'.encode())
        finally:
            await producer.stop()

    asyncio.run(produce())
    made["bad"] = {"marker": bad}
    return made


def produce_decision(settings: KafkaSettings, decision: dict[str, Any]) -> None:
    async def produce() -> None:
        producer = AIOKafkaProducer(**settings.client_kwargs())
        await producer.start()
        try:
            await producer.send_and_wait(
                "moderation.actions", orjson.dumps(decision), key=decision["comment_id"].encode()
            )
        finally:
            await producer.stop()

    asyncio.run(produce())


def test_decisions_become_cases_once_and_a_bad_record_a_dead_letter(
    console: Console, cases: dict[str, dict[str, Any]], kafka_settings: KafkaSettings
) -> None:
    store = Store(open_database(console.database, migrate=False))
    wanted = {cases[n]["decision"]["comment_id"] for n in ("consulting", "threat", "employee")}

    def ingested() -> bool:
        rows = store.cases_in("all", "compliance", limit=10_000)
        found = {r["comment_id"] for r in rows} & wanted
        return found == wanted and all(
            (store.case(r["id"], "compliance") or {}).get("comment") for r in rows
            if r["comment_id"] in wanted
        )  # fmt: skip

    wait_for(ingested, 60, "the cases in the database")
    rows = [r for r in store.cases_in("all", "compliance", 10_000) if r["comment_id"] in wanted]
    assert len(rows) == 3  # one case each, whatever else the topic holds
    by_id = {r["comment_id"]: r for r in rows}
    assert by_id[cases["employee"]["decision"]["comment_id"]]["employee"] is True
    assert by_id[cases["threat"]["decision"]["comment_id"]]["report"] is True
    letters = read_dead_letters(kafka_settings, [cases["bad"]["marker"]])
    [letter] = letters[cases["bad"]["marker"]]
    headers = dict(letter.headers)
    assert headers["streamproc.error"] == b"invalid_comment"
    assert headers["streamproc.source"].startswith(b"moderation.actions/")
    wait_for(
        lambda: 'streamproc_review_dead_letters_total{kind="invalid_comment"}' in console.metrics(),
        10,
        "the dead letter counted",
    )
    urgent = re.compile(r'streamproc_review_queue_depth\{queue="urgent"\} [1-9]')
    wait_for(lambda: urgent.search(console.metrics()) is not None, 15, "the queue depth gauge")


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def sign_in(browser: webdriver.Chrome, console: Console, name: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{console.url}/login")
    browser.find_element(By.ID, "name").send_keys(name)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "sign-in").click()
    wait_for(lambda: "/queue/now" in browser.current_url, 10, "the queue after sign-in")


def case_id(console: Console, comment_id: str) -> int:
    store = Store(open_database(console.database, migrate=False))
    [row] = [
        r for r in store.cases_in("all", "compliance", 10_000) if r["comment_id"] == comment_id
    ]
    return int(row["id"])


def test_a_reviewer_overturns_a_case_and_cannot_see_an_employees(
    console: Console,
    cases: dict[str, dict[str, Any]],
    browser: webdriver.Chrome,
    kafka_settings: KafkaSettings,
    tmp_path: Path,
) -> None:
    consulting = cases["consulting"]["decision"]
    wait_for(lambda: _has_case(console, consulting["comment_id"]), 60, "the cases")
    started = time.monotonic()
    sign_in(browser, console, "rita")
    assert not browser.find_elements(By.ID, "queue-compliance")  # not a reviewer's queue
    number = case_id(console, consulting["comment_id"])
    browser.find_element(By.ID, "queue-urgent").click()  # the engine marked it urgent
    browser.find_element(By.ID, f"case-{number}").click()
    text = browser.find_element(By.ID, "text")
    assert text.find_elements(By.TAG_NAME, "mark"), "the matched spans are highlighted"
    assert "Maria" not in browser.page_source  # the author is masked
    assert browser.find_element(By.ID, "author").text.startswith("author-")
    browser.save_screenshot(str(tmp_path / "case.png"))
    browser.find_element(By.ID, "overturn").click()
    # The POST answers with the case page again: wait for it (a busy machine takes a while).
    WebDriverWait(browser, 30, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda b: b.find_element(By.ID, "status").text == "overturned"
    )
    reviews = asyncio.run(
        _read(
            kafka_settings,
            "moderation.reviews",
            {consulting["comment_id"]},
            lambda r: orjson.loads(r.value).get("comment_id"),
            30,
        )
    )
    [record] = reviews[consulting["comment_id"]]
    assert record.key == consulting["author_id"].encode()
    review = worker_parse_review(record.value)
    assert isinstance(review, dict)
    validate(review, "review")
    assert review["overturned"] is True and review["action"] == "reinstate"
    assert review["channel"] == consulting["channel"]
    # An employee's case does not exist for a reviewer...
    employee = case_id(console, cases["employee"]["decision"]["comment_id"])
    browser.get(f"{console.url}/case/{employee}")
    assert "no such case" in browser.page_source
    # ...and does for compliance.
    sign_in(browser, console, "carlo")
    browser.find_element(By.ID, "queue-compliance").click()
    browser.find_element(By.ID, f"case-{employee}").click()
    assert "employee" in browser.find_element(By.TAG_NAME, "h1").text
    print(f"browser steps took {time.monotonic() - started:.1f} s")


def _has_case(console: Console, comment_id: str) -> bool:
    store = Store(open_database(console.database, migrate=False))
    return any(r["comment_id"] == comment_id for r in store.cases_in("all", "compliance", 10_000))


def test_a_restart_loses_nothing_and_repeats_nothing(
    console: Console, cases: dict[str, dict[str, Any]], kafka_settings: KafkaSettings
) -> None:
    """After the overturn (the test before): restart the console, replay a decision (as a
    worker crash would); still one case, the overturn kept, and not published again."""
    consulting = cases["consulting"]["decision"]
    wait_for(lambda: _has_case(console, consulting["comment_id"]), 60, "the cases")
    console.restart()
    produce_decision(kafka_settings, consulting)
    wait_for(
        lambda: 'streamproc_review_records_total{kind="replayed"}' in console.metrics(),
        30,
        "the replayed decision",
    )
    store = Store(open_database(console.database, migrate=False))
    everything = store.cases_in("all", "compliance", 10_000)
    rows = [r for r in everything if r["comment_id"] == consulting["comment_id"]]
    assert len(rows) == 1
    assert rows[0]["status"] == "overturned"
    cid = consulting["comment_id"]

    def ours(record: Any) -> str | None:
        return "ours" if orjson.loads(record.value).get("comment_id") == cid else None

    # Read the whole topic for 5 s ("never" is never found): every record of this comment.
    found = asyncio.run(_read(kafka_settings, "moderation.reviews", {"ours", "never"}, ours, 5))
    assert len(found["ours"]) == 1  # the overturn, published once


def produce_comment_and_decision(
    settings: KafkaSettings, comment: dict[str, Any], decision: dict[str, Any]
) -> None:
    async def produce() -> None:
        producer = AIOKafkaProducer(**settings.client_kwargs())
        await producer.start()
        try:
            await producer.send_and_wait(
                "comments.facebook", orjson.dumps(comment), key=comment["author"]["id"].encode()
            )
            await producer.send_and_wait(
                "moderation.actions", orjson.dumps(decision), key=decision["comment_id"].encode()
            )
        finally:
            await producer.stop()

    asyncio.run(produce())


def test_an_author_appeals_from_the_warning_reply_and_a_reviewer_upholds_it(
    console: Console,
    browser: webdriver.Chrome,
    kafka_bootstrap: str,
    kafka_settings: KafkaSettings,
    tmp_path: Path,
) -> None:
    """The real sink (with the console's secret and address) hides a comment and warns its
    author with a link; the author opens it with no account and appeals; a reviewer upholds
    the appeal; the sink unhides the comment and sends the answer."""
    stand_ins = StandIns().start()
    env = {
        **streamproc_env(kafka_bootstrap),
        **stand_ins.env(),
        "STREAMPROC_SINK_GROUP": unique("sink-"),
        "STREAMPROC_APPEAL_SECRET": APPEAL_SECRET,
        "STREAMPROC_APPEAL_BASE_URL": console.url,
    }
    sink = StreamprocService("sink", env, tmp_path / "sink")
    try:
        sink.start()
        node = f"{unique('9')}_{unique('8')}"
        user = unique("10")
        text = "stronzo, ti ho già scritto"
        comment = {
            "id": f"facebook:{node}", "channel": "facebook", "version": 1, "kind": "comment",
            "author": {"id": user, "name": "Maria Rossi", "role": "public"}, "text": text,
            "created_at": "2026-12-01T10:00:00+00:00", "post_id": "1_2",
        }  # fmt: skip
        decision = {
            "comment_id": f"facebook:{node}", "channel": "facebook", "author_id": user,
            "categories": ["insult"], "actions": ["remove", "warn"],
            "matches": [{"category": "insult", "start": 0, "end": 7, "rule": "insult.it.stronzo",
                         "confidence": "high", "severity": "medium"}],
            "policy_version": "2026.12-test", "reasons": ["insult: Rispetto (clause 2)"],
            "decided_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "escalation": None, "reply": "Gentile utente, il tuo commento è stato nascosto.",
            "version": 1,
            "platform": {"account_id": stand_ins.accounts.facebook_page_id, "post_id": "1_2",
                         "comment_id": node, "parent_id": "1_2", "user_id": user},
        }  # fmt: skip
        produce_comment_and_decision(kafka_settings, comment, decision)

        def warning() -> dict[str, Any] | None:
            found = [s for s in stand_ins.sent("graph") if s["parent"] == node]
            return found[0] if found else None

        wait_for(lambda: warning() is not None, 60, "the warning reply")
        reply = warning()
        assert reply is not None and stand_ins.is_hidden("graph", node)
        first, link = reply["text"].split("\n")
        assert first == decision["reply"] and link.startswith(f"{console.url}/appeal/")
        wait_for(lambda: _has_case(console, decision["comment_id"]), 60, "the case")

        # The author: no account, no cookie of the console.
        browser.delete_all_cookies()
        browser.get(link)
        assert "Statement of reasons" in browser.page_source
        assert "Maria" not in browser.page_source
        browser.find_element(By.ID, "statement-text").send_keys("I was quoting the headline.")
        browser.find_element(By.ID, "send-appeal").click()
        WebDriverWait(browser, 30, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda b: b.find_elements(By.ID, "received")
        )
        browser.save_screenshot(str(tmp_path / "appeal.png"))

        # A reviewer upholds it from the case page.
        sign_in(browser, console, "rita")
        browser.find_element(By.ID, "queue-appeals").click()
        number = case_id(console, decision["comment_id"])
        browser.find_element(By.ID, f"case-{number}").click()
        assert browser.find_element(By.ID, "statement").is_displayed()
        answer = "Hai ragione: era una citazione. Il commento è di nuovo visibile."
        browser.find_element(By.CSS_SELECTOR, 'form[action$="/answer"] textarea').send_keys(answer)
        browser.find_element(By.CSS_SELECTOR, 'button[id^="uphold-"]').click()
        wait_for(lambda: "/queue/appeals" in browser.current_url, 30, "the appeals queue")

        # The sink carries it out: the comment is visible again and the author has the answer.
        wait_for(lambda: not stand_ins.is_hidden("graph", node), 60, "the unhide")
        answered = lambda: [  # noqa: E731
            s for s in stand_ins.sent("graph") if s["parent"] == node and s["text"] == answer
        ]
        wait_for(lambda: bool(answered()), 60, "the answer reply")
        assert len(answered()) == 1
        metrics = console.metrics()
        assert 'streamproc_review_appeals_decided_total{outcome="upheld"} 1.0' in metrics
        assert 'streamproc_review_appeals_received_total{result="accepted"} 1.0' in metrics
    finally:
        sink.stop()
        stand_ins.stop()


def test_the_queue_counts_follow_new_cases_without_a_reload(
    console: Console,
    cases: dict[str, dict[str, Any]],
    browser: webdriver.Chrome,
    kafka_settings: KafkaSettings,
) -> None:
    template = cases["consulting"]["decision"]
    wait_for(lambda: _has_case(console, template["comment_id"]), 60, "the cases")
    sign_in(browser, console, "rita")
    badge = browser.find_element(By.CSS_SELECTOR, "#queue-urgent .count")
    before = int(badge.text)
    produce_decision(kafka_settings, {**template, "comment_id": f"{template['comment_id']}-live"})
    # The page polls /api/v1/queues every 10 s: the count moves with no reload.
    WebDriverWait(browser, 40, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda b: int(b.find_element(By.CSS_SELECTOR, "#queue-urgent .count").text) == before + 1
    )
    assert "/queue/now" in browser.current_url
