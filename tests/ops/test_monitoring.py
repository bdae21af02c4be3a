"""The alerting and recording rules, the dashboard and the runbook agree with each other and
with the metrics the services really export; promtool checks the rules and runs their unit
tests (deploy/prometheus/tests.yaml)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from streamproc.connect._metrics import ConnectMetrics
from streamproc.kafka import topology
from streamproc.review._metrics import ReviewMetrics
from streamproc.sink._ledger import TERMINAL
from streamproc.sink._metrics import SinkMetrics
from streamproc.worker._metrics import POLICY_RELOAD_RESULTS, WorkerMetrics
from tests.ops._manifests import ROOT

PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS_DIR / "rules.yaml"
UNIT_TESTS = ("tests.yaml", "tests-weekly.yaml")
DASHBOARD = ROOT / "deploy" / "grafana" / "streamproc.json"
RUNBOOK = ROOT / "deploy" / "RUNBOOK.md"
# Series Prometheus itself makes for each target.
SCRAPE_SERIES = {"up"}


def _promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool is missing: scripts/dev.sh test installs Debian's prometheus"
    return path


def _exported_names() -> set[str]:
    """Every sample name the services expose, from their own registries."""
    names: set[str] = set()
    registries: list[CollectorRegistry] = [
        WorkerMetrics(topology().channels).registry,
        SinkMetrics().registry,
        ConnectMetrics().registry,
        ReviewMetrics().registry,
    ]
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    for registry in registries:
        for family in registry.collect():
            for suffix in suffixes.get(family.type, ("",)):
                names.add(family.name + suffix)
    return names


def _rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def _alerts() -> list[dict[str, Any]]:
    return [rule for rule in _rules() if "alert" in rule]


def _dashboard_exprs() -> Iterator[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield target["expr"]


def _series_in(expr: str) -> set[str]:
    # Drop label matchers, strings and durations, then keep the identifiers that name series.
    bare = re.sub(r'\{[^}]*\}|"[^"]*"|\[[^\]]*\]', lambda m: m.group(0)[0] + m.group(0)[-1], expr)
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", bare))
    functions_and_keywords = {
        "sum", "max", "min", "avg", "by", "without", "rate", "increase", "delta", "deriv",
        "histogram_quantile", "clamp_min", "absent", "and", "or", "unless", "offset", "le",
        "channel", "action", "category", "reason", "topic", "version", "result", "status",
        "service", "platform", "outcome", "cause", "queue", "s", "m", "h", "d", "w",
    }  # fmt: skip
    return {w for w in words if w not in functions_and_keywords and not w.isdigit()}


def test_promtool_checks_the_rules() -> None:
    result = subprocess.run(
        [_promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass_and_cover_every_alert() -> None:
    result = subprocess.run(
        [_promtool(), "test", "rules", *UNIT_TESTS],
        cwd=PROMETHEUS_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    fired = {
        case["alertname"]
        for name in UNIT_TESTS
        for test in yaml.safe_load((PROMETHEUS_DIR / name).read_text(encoding="utf-8"))["tests"]
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert fired == {alert["alert"] for alert in _alerts()}


def test_every_series_in_the_rules_and_the_dashboard_is_exported() -> None:
    exported = _exported_names()
    recorded = {rule["record"] for rule in _rules() if "record" in rule}
    exprs = [rule["expr"] for rule in _rules()] + list(_dashboard_exprs())
    referenced = set().union(*map(_series_in, exprs))
    assert referenced, "nothing parsed"
    unknown = referenced - exported - recorded - SCRAPE_SERIES
    assert not unknown, f"not exported by any service: {sorted(unknown)}"
    # The label values the alerts select on are ones the services write.
    text = RULES.read_text(encoding="utf-8")
    assert set(re.findall(r'status="(\w+)"', text)) <= TERMINAL
    assert set(re.findall(r'result="(\w+)"', text)) <= set(POLICY_RELOAD_RESULTS)


def test_the_series_parser_finds_names() -> None:
    # The check above is only as good as this: a misspelt metric must be seen.
    assert _series_in('sum(rate(streamproc_decisons_total{action="x"}[5m])) > 0') == {
        "streamproc_decisons_total"
    }


def test_dashboard_uses_a_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    (variable,) = dashboard["templating"]["list"]
    assert variable["type"] == "datasource" and variable["query"] == "prometheus"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]


def _anchor(heading: str) -> str:
    # GitHub's: lower case, punctuation dropped, spaces to dashes.
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("alert", _alerts(), ids=lambda a: a["alert"])
def test_each_alert_says_what_and_links_its_runbook_section(alert: dict[str, Any]) -> None:
    annotations = alert["annotations"]
    assert annotations["summary"] and annotations["description"]
    assert alert["labels"]["severity"] in {"page", "ticket"}
    url = annotations["runbook_url"]
    assert url.split("#")[0].endswith("/deploy/RUNBOOK.md")
    headings = re.findall(r"^## (.+)$", RUNBOOK.read_text(encoding="utf-8"), re.MULTILINE)
    assert url.split("#")[1] in {_anchor(h) for h in headings}
    assert alert["alert"] in headings
