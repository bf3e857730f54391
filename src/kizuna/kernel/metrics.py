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
        # The network status (issue 19, ADR 0020): links, queues by precedence, alerts.
        self.link_up = Gauge(
            "kizuna_link_up",
            "Whether the link to the peer is up (1) or not (0)",
            ["peer"],
            registry=r,
        )
        self.outbox_queued = Gauge(
            "kizuna_outbox_depth_by_precedence",
            "Events waiting per peer and precedence (kizuna_outbox_depth is their sum)",
            ["peer", "precedence"],
            registry=r,
        )
        self.outbox_oldest = Gauge(
            "kizuna_outbox_oldest_seconds",
            "Age of the oldest event waiting per peer and precedence (0: none waits)",
            ["peer", "precedence"],
            registry=r,
        )
        self.link_rtt = Gauge(
            "kizuna_link_rtt_seconds",
            "Duration of the last successful exchange with the peer",
            ["peer"],
            registry=r,
        )
        self.network_alerts = Counter(
            "kizuna_network_alerts_total",
            "Network alerts raised, by kind (flash_overdue, link_cut, digest_differ)",
            ["kind"],
            registry=r,
        )
        self.network_alert_active = Gauge(
            "kizuna_network_alert_active",
            "Network alerts active now (1), by kind and peer",
            ["kind", "peer"],
            registry=r,
        )
        self.digest_agree = Gauge(
            "kizuna_digest_agree",
            "Last digest comparison with the peer: 1 agree, 0 differ, -1 not yet compared",
            ["peer"],
            registry=r,
        )
