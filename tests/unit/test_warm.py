"""The engine loads what its validators and calendar load on first use when it is built, not
inside the first comments that need them (see streamproc/core/_warm.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from streamproc.core._warm import WARM_KINDS, warm_text, warm_validators


@pytest.mark.parametrize("region", ["IT", "DE", "GB", "US", "FR"])
def test_the_warm_text_holds_every_kind_of_personal_data_for_the_region(region: str) -> None:
    found = warm_validators(region)
    assert {f.kind for f in found} == WARM_KINDS
    assert sum(f.kind == "phone" for f in found) == 2  # the region's fixed line and mobile
    assert warm_text(region).count(" o ") == 1


def test_a_region_without_example_numbers_still_warms_the_other_validators() -> None:
    found = warm_validators("AQ")  # Antarctica: phonenumbers has no example numbers
    assert {f.kind for f in found} == WARM_KINDS - {"phone"}


# Run in a fresh interpreter: the test process has long loaded everything.
_FIRST_COMMENTS = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timezone
    from streamproc.core import Engine, MemoryStrikeStore, load_pack

    from streamproc.core._hours import _calendar

    engine = Engine(load_pack(None))
    built, calendars = set(sys.modules), _calendar.cache_info().misses
    texts = [
        "il mio numero è 312 345 6789, richiamatemi",
        "IBAN IT60 X054 2811 1010 0000 0123 456 per il rimborso",
        "scrivete a giulia.bianchi@example.org",
        "codice fiscale RSSMRA85T10A562S, pratica ferma",
        "siete dei ladri, vi ammazzo",
    ]
    store = MemoryStrikeStore()
    decisions = []
    for i, text in enumerate(texts):
        comment = {
            "id": f"facebook:{i}", "channel": "facebook", "text": text, "lang": "it",
            "created_at": datetime.now(timezone.utc).isoformat(), "author": {"id": f"u{i}"},
        }
        decisions.append(engine.moderate(comment, store))
    assert any(d["escalation"] for d in decisions), decisions
    assert sum("pii" in d["categories"] for d in decisions) == 4, decisions
    assert _calendar.cache_info().misses == calendars, "a calendar computed mid-stream"
    print(sorted(set(sys.modules) - built))
    """
)


def test_the_first_comments_with_personal_data_and_an_escalation_import_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _FIRST_COMMENTS], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
