"""Issue 19: the Grafana dashboard and the Prometheus alerting rules in docs/grafana/ load,
and every query in them names a metric a real node exports on /metrics."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.nodes import NodeProcess

DOCS = Path(__file__).resolve().parents[2] / "docs"
DASHBOARD = DOCS / "grafana" / "kizuna-dashboard.json"
RULES = DOCS / "grafana" / "kizuna-alerts.yml"

# Series Prometheus makes itself, not the node.
PROMETHEUS_OWN = {"up"}
KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
    "bool", "offset",
}  # fmt: skip
# What the issue asks the dashboard to show, as metrics its queries must use.
WANTED = {
    "links": {"kizuna_link_up", "kizuna_link_rtt_seconds"},
    "queues by precedence": {"kizuna_outbox_depth_by_precedence", "kizuna_outbox_oldest_seconds"},
    "refusals": {"kizuna_federation_violations_total"},
    "bad input by source": {"kizuna_bad_input_total"},
    "ingest rates": {"kizuna_events_committed_total"},
    "WebSocket subscribers": {"kizuna_ws_sessions"},
    "persist failures": {"kizuna_persist_failures_total"},
    "alerts": {"kizuna_network_alert_active", "kizuna_network_alerts_total"},
    "digests": {"kizuna_digest_agree"},
}


def metric_names(expr: str) -> set[str]:
    """The series a PromQL expression (or a Grafana ``label_values(...)`` query) reads."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", r"\1", text)
    text = re.sub(r"label_values\(([^,()]+),[^)]*\)", r"\1", text)  # the label it lists
    text = re.sub(r"\$\w+|\$\{\w+\}", "", text)  # Grafana variables
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        after = text[m.end() :].lstrip()
        word = m.group(0)
        if after.startswith("(") or re.match(r"(by|without)\b", after) or word in KEYWORDS:
            continue  # a function, an aggregation or an operator
        if re.fullmatch(r"\d+[smhdwy]", word):
            continue
        names.add(word)
    return names


def test_metric_names_are_read_from_promql() -> None:
    assert metric_names(
        'sum by (peer, precedence) (rate(kizuna_a_total{peer=~"$peer", x="by(y)"}[5m])) / 600'
    ) == {"kizuna_a_total"}
    assert metric_names("(kizuna_b == 0) and on (instance, peer) (kizuna_c == 1)") == {
        "kizuna_b",
        "kizuna_c",
    }
    assert metric_names('label_values(kizuna_d{instance=~"$instance"}, peer)') == {"kizuna_d"}
    assert metric_names('up{job="kizuna"} == 0 or absent(kizuna_e)') == {"up", "kizuna_e"}


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def dashboard_queries(dashboard: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        out[panel["title"]] = [t["expr"] for t in panel["targets"]]
    return out


def rule_queries(rules: dict[str, Any]) -> dict[str, str]:
    return {r["alert"]: r["expr"] for g in rules["groups"] for r in g["rules"]}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[set[str]]:
    """Every metric name a running node with a peer and an AIS feed exports (families
    without samples yet included: their HELP lines)."""
    from tests.nodes import free_port, make_node_dir, peer_both

    root = tmp_path_factory.mktemp("grafana")
    a = make_node_dir(root / "usfj", "usfj", "USA", ais_udp_port=free_port(1))
    b = make_node_dir(root / "jjoc", "jjoc", "JPN")
    peer_both(a, b)
    node = NodeProcess(a)
    node.start()
    try:
        text = httpx.get(f"{node.url}/metrics", timeout=10).text
    finally:
        node.stop()
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(s.name for s in family.samples)
    names.update(re.findall(r"(?m)^# (?:HELP|TYPE) (\S+)", text))
    yield names


def test_the_dashboard_is_a_grafana_dashboard_over_a_prometheus_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["schemaVersion"] >= 36 and dashboard["title"] and dashboard["uid"]
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in panels(dashboard):
        assert {"x", "y", "w", "h"} <= panel["gridPos"].keys()
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}"
            assert metric_names(target["expr"]), (panel["title"], target["expr"])
    used = set().union(
        *(metric_names(e) for es in dashboard_queries(dashboard).values() for e in es)
    )
    for item, wanted in WANTED.items():
        assert wanted <= used, f"the dashboard shows no {item}: {sorted(wanted - used)}"


def test_every_dashboard_query_names_a_metric_the_node_exports(exported: set[str]) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    missing = {}
    for title, exprs in dashboard_queries(dashboard).items():
        for expr in exprs:
            unknown = metric_names(expr) - exported
            if unknown:
                missing[title] = sorted(unknown)
    for var in dashboard["templating"]["list"]:
        if var["type"] == "query":
            unknown = metric_names(var["definition"]) - exported
            if unknown:
                missing[f"${var['name']}"] = sorted(unknown)
    assert not missing, f"queries naming metrics the node does not export: {missing}"


def test_the_alerting_rules_cover_the_three_alerts_over_exported_metrics(
    exported: set[str],
) -> None:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    for group in rules["groups"]:
        assert group["name"] and group["rules"]
        for rule in group["rules"]:
            assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
            assert rule["labels"]["severity"] in ("critical", "warning", "info")
            assert rule["annotations"]["summary"] and rule["annotations"]["description"]
    queries = rule_queries(rules)
    missing = {
        name: sorted(metric_names(expr) - exported - PROMETHEUS_OWN)
        for name, expr in queries.items()
        if metric_names(expr) - exported - PROMETHEUS_OWN
    }
    assert not missing, f"rules naming metrics the node does not export: {missing}"
    read: Callable[[str], set[str]] = lambda name: metric_names(queries[name])  # noqa: E731
    assert "kizuna_outbox_oldest_seconds" in read("KizunaFlashOverdue")
    assert '"FLASH"' in queries["KizunaFlashOverdue"] and "600" in queries["KizunaFlashOverdue"]
    assert "kizuna_link_up" in read("KizunaLinkCut")
    assert {"kizuna_digest_agree", "kizuna_link_up"} <= read("KizunaDigestDiffer")
