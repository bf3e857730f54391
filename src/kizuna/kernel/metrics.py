"""Prometheus metrics, one registry per node (several nodes may share a process in tests)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.bad_input = Counter(
            "kizuna_bad_input_total",
            "Rejected input by source and reason",
            ["source", "reason"],
            registry=r,
        )
        self.persist_failures = Counter(
            "kizuna_persist_failures_total",
            "Commits of pending state that failed (retried; history dropped)",
            ["component"],
            registry=r,
        )
        self.refused = Counter(
            "kizuna_access_refused_total", "Refused accesses by reason", ["reason"], registry=r
        )
        self.events_committed = Counter(
            "kizuna_events_committed_total", "Events committed to the log", ["origin"], registry=r
        )
        self.released_denied = Counter(
            "kizuna_release_denied_total",
            "Egress withheld by the release check",
            ["path"],
            registry=r,
        )
        self.federation_sent = Counter(
            "kizuna_federation_sent_total", "Events sent to peers", ["peer"], registry=r
        )
        self.federation_received = Counter(
            "kizuna_federation_received_total", "Events received from peers", ["peer"], registry=r
        )
        self.federation_violations = Counter(
            "kizuna_federation_violations_total",
            "Events refused at receipt",
            ["peer", "reason"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "kizuna_outbox_depth", "Events waiting per peer", ["peer"], registry=r
        )
        self.tracks = Gauge("kizuna_tracks", "Live tracks held", registry=r)
