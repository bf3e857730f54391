"""SITREPs per reader: built from the incident's state through the other services' own
release-checked reads, numbered through the event log, exported as JSON, PDF and HXL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import msgspec

from kizuna.core.catalog import Catalog
from kizuna.core.errors import Conflict, Invalid, NotFound
from kizuna.core.hlc import to_seconds
from kizuna.core.ids import new_id
from kizuna.core.label_math import restrict
from kizuna.core.label_view import label_fields
from kizuna.core.labels import Classification, Label, make_label
from kizuna.core.records import RecordState
from kizuna.core.release import may_release
from kizuna.core.time import iso, parse_iso
from kizuna.kernel.access import filter_visible, label_for_write
from kizuna.kernel.context import Caller, NodeContext
from kizuna.sitrep import rules
from kizuna.sitrep.models import (
    SITREP,
    AssistancePort,
    IncidentsPort,
    ReliefPort,
    SitrepIn,
    SitrepOut,
    organisation_of,
)
from kizuna.store.base import Draft, leases_of

CATALOG = Catalog("kizuna.sitrep")


class SitrepService:
    def __init__(self, node: NodeContext) -> None:
        self.node = node
        self._issuing = threading.Lock()  # this process's threads, one at a time
        self._leases = leases_of(node.backend)  # this node's workers, one at a time

    @contextmanager
    def _numbering(self, incident_id: str, wait: float = 10.0) -> Iterator[None]:
        """Hold the incident's SITREP numbering: read the last number and append the next
        with no other thread or worker of this node doing the same (two SITREPs of one
        number would otherwise be possible on several PostgreSQL workers)."""
        name = f"sitrep:{incident_id}"
        with self._issuing:
            deadline = time.monotonic() + wait
            while not self._leases.acquire(name):
                if time.monotonic() > deadline:
                    raise Conflict(CATALOG.msg("error.busy"))
                time.sleep(0.02)
            try:
                yield
            finally:
                self._leases.release(name)

    # The services this domain reads, through the ports it declares (models.py).
    @property
    def incidents(self) -> IncidentsPort:
        port: IncidentsPort = self.node.require("incidents")
        return port

    @property
    def assistance(self) -> AssistancePort:
        port: AssistancePort = self.node.require("assistance")
        return port

    @property
    def relief(self) -> ReliefPort:
        port: ReliefPort = self.node.require("relief")
        return port

    @property
    def font_dir(self) -> str:
        return str(getattr(self.node.settings, "fonts", "") or "")

    # -- reading ------------------------------------------------------------------

    def _released(
        self, caller: Caller, answers: Iterable[Any]
    ) -> list[tuple[dict[str, Any], Label]]:
        """Each answer as a dict with its label; anything the caller may not see is
        dropped (the services filter already: this is a second check, never a first)."""
        out = []
        for answer in answers:
            item = rules.as_item(answer)
            label = rules.label_of(item, self.node.groups, self.node.nation)
            if may_release(label, caller.principal):
                out.append((item, label))
            else:
                self.node.metrics.released_denied.labels(SITREP).inc()
        return out

    def _incident(self, caller: Caller, incident_id: str) -> tuple[dict[str, Any], Label]:
        found = self._released(caller, [self.incidents.get(caller, incident_id)])
        if not found or not found[0][0]:
            raise NotFound(CATALOG.msg("error.incident-not-found", id=incident_id))
        return found[0]

    def issues(self, caller: Caller | None, incident_id: str) -> list[RecordState]:
        """This node's SITREPs of an incident, by number (those the caller may see)."""
        states = [
            s
            for s in self.node.events.scan(SITREP)
            if not s.deleted
            and s.origin == self.node.node_id
            and s.fields.get("incident_id") == incident_id
        ]
        if caller is not None:
            states = filter_visible(self.node, caller, states)
        return sorted(states, key=lambda s: int(s.fields.get("number", 0)))

    def current(self, caller: Caller, incident_id: str, number: int | None = None) -> SitrepOut:
        """The latest issued SITREP the caller may see (or number ``number``) with the
        incident's state as the caller may see it now; a preview if none was issued."""
        incident = self._incident(caller, incident_id)
        issues = self.issues(caller, incident_id)
        if number is not None:
            issues = [s for s in issues if s.fields.get("number") == number]
            if not issues:
                raise NotFound(
                    CATALOG.msg("error.sitrep-not-found", number=number, incident=incident_id)
                )
        return self.build(caller, incident_id, issues[-1] if issues else None, incident)

    # -- building -----------------------------------------------------------------

    def build(
        self,
        caller: Caller,
        incident_id: str,
        issue: RecordState | None = None,
        incident: tuple[dict[str, Any], Label] | None = None,
    ) -> SitrepOut:
        """The SITREP as ``caller`` may see it: every item read through the services'
        release-checked reads for this caller; the banner is the highest label in it."""
        inc, inc_label = incident or self._incident(caller, incident_id)
        rfas = self._released(caller, self.assistance.rfas(caller, incident_id=incident_id))
        rfa_ids = {str(rules.first(item, "id", default="")) for item, _ in rfas}
        offers = [
            (item, label)
            for item, label in self._released(caller, self.assistance.offers(caller))
            if rules.rfa_of(item) in rfa_ids or rules.first(item, "incident_id") == incident_id
        ]
        tasks = self._released(caller, self.assistance.tasks(caller, incident_id=incident_id))
        shelters = self._released(caller, self.relief.shelters(caller, incident_id=incident_id))
        stocks = [
            (item, label)
            for item, label in self._released(caller, self.relief.stocks(caller))
            if rules.first(item, "incident_id") in (None, incident_id)
        ]
        labels = [
            inc_label,
            *(label for part in (rfas, offers, tasks, shelters, stocks) for _, label in part),
        ]
        if issue is not None:
            labels.append(issue.label)
        banner = rules.banner_label(labels, self.node.nation, self.node.groups)

        def summaries(part: list[tuple[dict[str, Any], Label]], make: Any) -> list[dict[str, Any]]:
            return [{**make(item), **label_fields(label)} for item, label in part]

        rfa_out = summaries(rfas, rules.rfa_summary)
        offer_out = summaries(offers, rules.offer_summary)
        task_out = summaries(tasks, rules.task_summary)
        shelter_out = summaries(shelters, rules.shelter_summary)
        now = time.time()
        head = (
            issue.fields if issue is not None else self._preview_head(caller, incident_id, inc, now)
        )
        marking = banner.render(fgi=False)
        out = {
            **label_fields(banner),
            "incident_id": incident_id,
            "issue_id": issue.record_id if issue is not None else None,
            "number": head.get("number"),
            "version": head["version"],
            "period": head["period"],
            "confidence": head["confidence"],
            "next_contact": head.get("next_contact"),
            "prepared_by": head["prepared_by"],
            "authorised_by": head.get("authorised_by"),
            "issued_at": head.get("issued_at"),
            "generated_at": iso(now),
            "generated_for": {
                "user": caller.name,
                "organisation": organisation_of(caller.user, self.node.node_id),
            },
            "banner": CATALOG.text("banner", marking=marking, marking_ja=banner.render_ja()),
            "incident": {
                **rules.incident_summary(inc),
                "id": incident_id,
                **label_fields(inc_label),
            },
            "rfas": rfa_out,
            "offers": offer_out,
            "tasks": task_out,
            "shelters": shelter_out,
            "stocks": summaries(stocks, rules.stock_summary),
            "totals": rules.totals(rfa_out, offer_out, task_out, shelter_out),
        }
        return msgspec.convert(out, SitrepOut)

    def _preview_head(
        self, caller: Caller, incident_id: str, incident: dict[str, Any], now: float
    ) -> dict[str, Any]:
        issues = self.issues(None, incident_id)
        try:
            _, version = rules.next_issue(_series(issues), None)
        except Conflict:  # a closed series previews as its Final
            version = "Final"
        return {
            "number": None,
            "version": version,
            "period": {"from": self._period_start(issues, incident, now), "to": iso(now)},
            "confidence": "SomewhatConfident",
            "prepared_by": {
                "user": caller.name,
                "organisation": organisation_of(caller.user, self.node.node_id),
            },
        }

    def _period_start(self, issues: list[RecordState], incident: dict[str, Any], now: float) -> str:
        if issues:
            return str(issues[-1].fields["period"]["to"])
        start = rules.first(incident, "created_at", "first_bulletin_at", "origin_time")
        return str(start) if start else iso(now)

    # -- issuing ------------------------------------------------------------------

    def issue(self, caller: Caller, incident_id: str, data: SitrepIn) -> SitrepOut:
        """Record the incident's next numbered SITREP (one commit) and answer it as the
        caller sees it. The record carries the header only (number, version, period,
        confidence, next contact, prepared and authorised by), labelled as the incident
        is (re-originated at this node): the content is built per reader when read."""
        inc, inc_label = self._incident(caller, incident_id)
        with self._numbering(incident_id):
            return self._issue(caller, incident_id, data, inc, inc_label)

    def _issue(
        self,
        caller: Caller,
        incident_id: str,
        data: SitrepIn,
        inc: dict[str, Any],
        inc_label: Label,
    ) -> SitrepOut:
        issues = self.issues(None, incident_id)
        number, version = rules.next_issue(_series(issues), data.version)
        now = time.time()
        if data.period is not None:
            start, end = data.period.start, data.period.end
        else:
            start, end = self._period_start(issues, inc, now), iso(now)
        if parse_iso(start) > parse_iso(end):
            raise Invalid(CATALOG.msg("error.period"), errors=["period"])
        own = make_label(
            Classification.UNCLASSIFIED, originator=self.node.nation, groups=self.node.groups
        )
        label = label_for_write(
            self.node, caller, restrict(own, inc_label, self.node.groups).render(fgi=False)
        )
        payload = {
            "incident_id": incident_id,
            "number": number,
            "version": version,
            "period": {"from": iso(parse_iso(start)), "to": iso(parse_iso(end))},
            "confidence": data.confidence,
            "next_contact": iso(parse_iso(data.next_contact)) if data.next_contact else None,
            "prepared_by": {
                "user": caller.name,
                "organisation": organisation_of(caller.user, self.node.node_id),
            },
            "authorised_by": msgspec.to_builtins(data.authorised_by),
            "issued_at": iso(now),
        }
        rid = new_id()
        self.node.events.append(
            [Draft(SITREP, rid, "create", label, payload, author=caller.name, new_record=True)]
        )
        self.node.audit.append(
            "sitrep.issue",
            caller.name,
            "ok",
            id=rid,
            incident=incident_id,
            number=number,
            version=version,
            label=label.render(),
        )
        state = self.node.events.get(SITREP, rid)
        assert state is not None
        self.node.bus.publish(
            SITREP,
            {
                "id": rid,
                "incident_id": incident_id,
                "number": number,
                "version": version,
                "issued_at": iso(to_seconds(state.created_hlc)),
                **label_fields(label),
            },
            label,
        )
        return self.build(caller, incident_id, state, (inc, inc_label))

    # -- exports ------------------------------------------------------------------

    def pdf(self, sitrep: SitrepOut, language: str) -> bytes:
        from kizuna.sitrep.render import render_pdf

        return render_pdf(sitrep, language, self.font_dir or None)

    def who_does_what_where(
        self, caller: Caller, incident_id: str, language: str
    ) -> tuple[str, SitrepOut]:
        """The HXL 3W CSV of what the caller may see (and the SITREP it was built from)."""
        from kizuna.sitrep.hxl import hxl_csv

        sitrep = self.current(caller, incident_id)
        return hxl_csv(sitrep, language), sitrep


def _series(issues: list[RecordState]) -> list[tuple[int, str]]:
    return [(int(s.fields.get("number", 0)), str(s.fields.get("version", ""))) for s in issues]
