"""The whole story of people in the loop, with real parts: signed webhooks into ``streamproc
connect``, the real broker and ``streamproc worker``, ``streamproc sink`` acting on the platform
stand-ins, and ``streamproc review serve`` (SQLite) in Debian's chromium.

A reviewer signs in and finds an urgent threat and an off-topic escalation in the queues;
overturns a false positive (the stand-in gets the unhide, and the author's next insult is a
warning again, not a block); downloads a report's evidence pack. The author opens the appeal
link of the warning reply, appeals on the public page, and a reviewer upholds it (the stand-in
gets the unhide and the answer). A screenshot of every step goes into the test's folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from streamproc.kafka import KafkaSettings, TopicDeclarations
from streamproc.local.platforms import deliver, facebook_comment, sign

from ._platforms import Loop, read_json, running_loop, wait_for
from ._streaming import unique
from .test_review_console import (
    APPEAL_SECRET,
    Console,
    browser,  # noqa: F401 (a fixture)
    case_id,
    console,  # noqa: F401 (a fixture)
    sample,
    sign_in,
)

pytestmark = pytest.mark.kafka

POST = "901097836652708"
#: Wednesday mornings, within moderation hours: the escalations wait in the "now" queue.
AT = "2026-11-18T10:{:02d}:00+01:00"


class Pipeline(Loop):
    def post(self, text: str, user: str, minute: int) -> str:
        """A comment on the page, delivered as Facebook's signed webhook; its platform id."""
        node = f"{POST}_{unique('8')}"
        body = facebook_comment(
            self.accounts, comment_id=node, post_id=POST, user_id=user, name="Maria Rossi",
            text=text, created_at=AT.format(minute),
        )  # fmt: skip
        url = f"{self.connect.url}/webhooks/facebook"
        assert deliver(url, body, sign("facebook", self.accounts, body)) == 200
        return node

    def decision(self, node: str) -> dict[str, Any]:
        found = read_json(
            self.settings, "moderation.actions", lambda d: d["comment_id"] == f"facebook:{node}"
        )
        assert found, f"no decision for {node}"
        return found[-1]

    def replies_to(self, node: str) -> list[dict[str, Any]]:
        return [s for s in self.stand_ins.sent("graph") if s["parent"] == node]


@pytest.fixture(scope="module")
def pipeline(
    console: Console,  # noqa: F811
    kafka_bootstrap: str,
    kafka_settings: KafkaSettings,
    kafka_topics: TopicDeclarations,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pipeline]:
    directory = tmp_path_factory.mktemp("story")
    # Shared with the console: the warning replies carry links that open on it.
    shared = {"STREAMPROC_APPEAL_SECRET": APPEAL_SECRET, "STREAMPROC_APPEAL_BASE_URL": console.url}
    with running_loop(Pipeline, kafka_bootstrap, kafka_settings, directory, **shared) as running:
        yield running


class Shots:
    """Numbered screenshots of the steps, in the test's folder."""

    def __init__(self, driver: webdriver.Chrome, folder: Path) -> None:
        self.browser, self.folder, self.n = driver, folder, 0
        folder.mkdir(exist_ok=True)

    def __call__(self, name: str) -> Path:
        self.n += 1
        path = self.folder / f"{self.n:02d}-{name}.png"
        assert self.browser.save_screenshot(str(path)), path
        return path


def until_page(driver: webdriver.Chrome, element_id: str, text: str | None = None) -> None:
    """After a form's POST: until the page that answers it shows ``element_id`` (with
    ``text``)."""

    def shown(b: webdriver.Chrome) -> bool:
        found = b.find_elements(By.ID, element_id)
        return bool(found) and (text is None or found[0].text == text)

    WebDriverWait(driver, 30, ignored_exceptions=[StaleElementReferenceException]).until(shown)


def in_queue(driver: webdriver.Chrome, served: Console, queue: str, number: int) -> None:
    """Open ``queue`` from the navigation (reloading until the case is listed)."""

    def listed() -> bool:
        driver.get(f"{served.url}/queue/now")
        driver.find_element(By.ID, f"queue-{queue}").click()
        return bool(driver.find_elements(By.ID, f"case-{number}"))

    wait_for(listed, 60, f"case {number} in the {queue} queue")


def test_the_review_story(
    pipeline: Pipeline,
    console: Console,  # noqa: F811
    browser: webdriver.Chrome,  # noqa: F811
    tmp_path: Path,
) -> None:
    browser.set_window_size(1200, 900)  # this module's own browser: room for a case page
    shot = Shots(browser, tmp_path / "screenshots")
    p = pipeline

    # Comments arrive from the platform: a threat, an off-topic post, and a word a reviewer
    # finds to be a false positive (it is the name of the author's dog).
    menacing = unique("10")
    threat = p.post(sample("La prossima volta che vengo in sede")["text"], menacing, 1)
    off_topic = p.post(sample("Ciao a tutti, chi vuole fare amicizia")["text"], unique("10"), 2)
    author = unique("10")
    dog = p.post("Il mio cane si chiama Stronzo", author, 3)
    ids = {n: f"facebook:{n}" for n in (threat, off_topic, dog)}
    wait_for(lambda: all(_has(console, c) for c in ids.values()), 60, "the three cases")
    first = p.decision(dog)
    assert first["actions"] == ["remove", "warn"]  # first strike
    wait_for(lambda: p.stand_ins.is_hidden("graph", dog), 60, "the comment hidden")

    # A reviewer signs in: the threat waits in the urgent queue, the off-topic post in now.
    sign_in(browser, console, "rita")
    threat_case = case_id(console, ids[threat])
    in_queue(browser, console, "urgent", threat_case)
    shot("urgent-queue")
    off_topic_case = case_id(console, ids[off_topic])
    in_queue(browser, console, "now", off_topic_case)
    shot("now-queue")
    browser.find_element(By.ID, f"case-{off_topic_case}").click()
    until_page(browser, "categories", "off_topic")
    assert browser.find_element(By.ID, "actions").text == "escalate"

    # The false positive: overturned from its case page (in the "all" queue: automation dealt
    # with it, no one had to). The sink reinstates the comment on the platform.
    dog_case = case_id(console, ids[dog])
    browser.get(f"{console.url}/queue/all")
    browser.find_element(By.ID, f"case-{dog_case}").click()
    until_page(browser, "text")
    assert browser.find_element(By.ID, "text").find_elements(By.TAG_NAME, "mark")
    shot("case-false-positive")
    browser.find_element(By.NAME, "reason").send_keys("the name of the author's dog, not an insult")
    browser.find_element(By.ID, "overturn").click()
    until_page(browser, "status", "overturned")
    shot("case-overturned")
    wait_for(lambda: not p.stand_ins.is_hidden("graph", dog), 60, "the unhide")
    removed = 'streamproc_reviews_total{result="strike_removed"}'
    wait_for(
        lambda: (p.worker.samples() or {}).get(removed, 0) >= 1,
        60,
        "the worker to remove the strike",
    )

    # The same author's next insult is judged as if the overturned one never happened: a
    # warning (with its appeal link), not a block.
    insult = p.post("sei uno stronzo", author, 4)
    wait_for(lambda: bool(p.replies_to(insult)), 60, "the warning reply")
    second = p.decision(insult)
    assert second["actions"] == ["remove", "warn"], second["actions"]
    assert any(r.startswith("first conduct violation") for r in second["reasons"])

    # The threat is a report to file: its evidence pack, downloaded from the case page.
    browser.get(f"{console.url}/case/{threat_case}")
    until_page(browser, "evidence-txt")
    shot("case-report")
    downloads = tmp_path / "downloads"
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    browser.find_element(By.ID, "evidence-txt").click()
    # Complete: Chromium may show the file's name before its content is written.
    wait_for(lambda: _downloaded(downloads, "*.txt"), 30, "the evidence pack downloaded")
    [file] = downloads.glob("*.txt")
    pack = file.read_text()
    assert ids[threat] in pack and "threat" in pack
    assert "SHA-256" in pack
    # A reviewer may not reveal: neither the author's name nor their platform id is in it.
    assert "Maria" not in pack and menacing not in pack
    # The threat blocks at once: its reasons do not promise the first strike's warning.
    assert "warn (superseded by block)" in pack

    # The author opens the link of the warning reply, with no account, and appeals.
    [warning] = p.replies_to(insult)
    link = warning["text"].rsplit("\n", 1)[-1]
    assert link.startswith(f"{console.url}/appeal/"), warning["text"]
    browser.delete_all_cookies()
    browser.get(link)
    until_page(browser, "statement-text")
    assert "Statement of reasons" in browser.page_source
    browser.find_element(By.ID, "statement-text").send_keys("Stavo citando un titolo.")
    shot("appeal-page")
    browser.find_element(By.ID, "send-appeal").click()
    until_page(browser, "received")
    shot("appeal-received")

    # A reviewer upholds it from the appeals queue; the sink reinstates and answers.
    sign_in(browser, console, "rita")
    insult_case = case_id(console, f"facebook:{insult}")
    in_queue(browser, console, "appeals", insult_case)
    shot("appeals-queue")
    browser.find_element(By.ID, f"case-{insult_case}").click()
    until_page(browser, "statement")
    answer = "Hai ragione: era una citazione. Il commento è di nuovo visibile."
    browser.find_element(By.CSS_SELECTOR, 'form[action$="/answer"] textarea').send_keys(answer)
    shot("appeal-answer")
    browser.find_element(By.CSS_SELECTOR, 'button[id^="uphold-"]').click()
    wait_for(lambda: "/queue/appeals" in browser.current_url, 30, "the appeals queue")
    wait_for(lambda: not p.stand_ins.is_hidden("graph", insult), 60, "the unhide")
    wait_for(lambda: any(r["text"] == answer for r in p.replies_to(insult)), 60, "the answer")
    browser.get(f"{console.url}/case/{insult_case}")
    until_page(browser, "status", "overturned")  # an upheld appeal reinstates as an overturn does
    shot("appeal-upheld")


def _has(served: Console, comment_id: str) -> bool:
    try:
        case_id(served, comment_id)
    except ValueError:
        return False
    return True


def _downloaded(folder: Path, pattern: str) -> bool:
    """A download matching ``pattern`` is in ``folder``, not empty, and none is in progress."""
    files = list(folder.glob(pattern))
    in_progress = any(folder.glob("*.crdownload"))
    return bool(files) and not in_progress and all(f.stat().st_size > 0 for f in files)
