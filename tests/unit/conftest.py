"""A small, stable policy pack for unit tests: the default policy.yaml with hand-picked lexicons,
so that engine behaviour is tested independently of how the default lexicons are curated."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from streamproc.core import (
    DEFAULT_PACK_PATH,
    Engine,
    MemoryStrikeStore,
    PolicyPack,
    load_pack,
    parse_pack,
)
from tests._postgres import PostgresServer, postgres_server

MINI_LEXICONS = {
    "lexicons/it/insult.txt": "stronz*\ncoglione\ncazz* | severity=high\npezzo di merda\n",
    "lexicons/it/profanity.txt": "merda\n*merda\nporco dio\nporcodio\n",
    "lexicons/it/threat.txt": "ti ammazzo\nso dove abiti\n",
    "lexicons/it/hate.txt": "troia | confidence=low\nfiglio di troia\nnegro | confidence=low\n",
    "lexicons/it/assistance.txt": (
        "la mia pratica\nil mio infortunio\nmia pensione | confidence=low\n"
        "mia rendita | confidence=low\n"
    ),
    "lexicons/it/spam.txt": "guadagna subito\nscrivimi su whatsapp\n",
    "lexicons/it/illegal.txt": "certificati medici falsi | severity=high\nricette false\n",
    "lexicons/it/copyright.txt": "film completo gratis\n",
    "lexicons/it/off_topic.txt": "cerco fidanzata | confidence=low\n",
    "lexicons/it/confidential.txt": "documento interno\n",
    "lexicons/en/profanity.txt": "fuck*\nshit\n",
    "lexicons/en/insult.txt": "asshole\nidiot\ncunt\n",
    "lexicons/en/threat.txt": "i will kill you\ni know where you live\n",
    "lexicons/en/assistance.txt": "my claim\n",
    "allowlist/it.txt": "cazzuol*\ncavallo di troia\ncomune di troia\na troia\nnegroni\n",
    "allowlist/en.txt": "scunthorpe\n",
}


def mini_files(**overrides: str) -> dict[str, str]:
    with open(DEFAULT_PACK_PATH / "policy.yaml", encoding="utf-8") as f:
        files = {"policy.yaml": f.read()}
    files.update(MINI_LEXICONS)
    files.update(overrides)
    return files


@pytest.fixture(scope="session")
def default_engine() -> Engine:
    """The bundled pack's engine, built once for the tests that read its decisions."""
    return Engine(load_pack())


def moderate_text(engine: Engine, text: str) -> dict[str, Any]:
    """``engine``'s decision on a public Facebook comment ``text``, with no strikes before it."""
    comment = {
        "id": "t",
        "channel": "facebook",
        "author": {"id": "a", "role": "public"},
        "text": text,
        "created_at": "2026-11-18T10:00:00+01:00",
    }
    return dict(engine.moderate(comment, MemoryStrikeStore()))


@pytest.fixture(scope="session")
def mini_pack() -> PolicyPack:
    return parse_pack(mini_files())


@pytest.fixture(scope="session")
def mini_engine(mini_pack: PolicyPack) -> Engine:
    return Engine(mini_pack, clock=lambda: 1_800_000_000.0)


CommentFactory = Callable[..., dict[str, Any]]


@pytest.fixture
def comment() -> CommentFactory:
    counter = iter(range(1_000_000))

    def make(
        text: str,
        *,
        author: str = "author-1",
        role: str = "public",
        at: str = "2026-11-18T10:30:00+01:00",  # a Wednesday, in moderation hours
        kind: str = "comment",
        lang: str | None = None,
        channel: str = "facebook",
        id: str | None = None,
    ) -> dict[str, Any]:
        c: dict[str, Any] = {
            "id": id or f"c{next(counter)}",
            "channel": channel,
            "author": {"id": author, "role": role},
            "text": text,
            "created_at": at,
            "kind": kind,
        }
        if lang:
            c["lang"] = lang
        return c

    return make


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the session's database tests (each takes a new database)."""
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def review_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: a real SQLite file, then a database on the cluster."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'review.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()
