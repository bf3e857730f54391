"""Pure rules of assistance: three lifecycles on :mod:`kizuna.core.lifecycle`, reason
codes, line maths and roll-ups.

RFA (the requester node writes the content; the affected state's node validates, sets
the priority, opens it for offers and accepts offers)::

    DRAFT → SUBMITTED → VALIDATED → OPEN → COMMITTED → COMPLETED
    SUBMITTED | VALIDATED → DECLINED (affected state, reason code)
    any open status → CANCELLED | SUPERSEDED (requester, reason code)

Offer (the offering nation's node owns it; only the affected state's node accepts)::

    OFFERED → ACCEPTED → IN_TRANSIT → DELIVERED      (ACCEPTED → DELIVERED too)
    OFFERED → DECLINED (affected state, reason code)
    OFFERED | ACCEPTED | IN_TRANSIT → WITHDRAWN (offerer, reason code)

An accepted offer (ACCEPTED, IN_TRANSIT, DELIVERED) is a *commitment*. A node is never
on both sides of its own offer: the affected side of an offer excludes its origin.

Task (the committing nation's node owns it)::

    PLANNED → IN_PROGRESS → DONE;  PLANNED → DONE;  PLANNED | IN_PROGRESS → CANCELLED (reason)

Roll-ups (per line: requested, offered, committed, in transit, delivered, gap) count
the offers linked to the RFA (its ``rfa_id``, or the RFA an unsolicited offer was
accepted for) that name the same affected node, among the offers given: the caller's
visible ones, so a roll-up never reveals an offer its reader may not see.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kizuna.assistance.models import LineIn, OfferStatus, RfaStatus, TaskStatus
from kizuna.core import lifecycle as lc
from kizuna.core.catalog import Catalog, Message
from kizuna.core.errors import Invalid
from kizuna.core.lifecycle import Lifecycle
from kizuna.core.records import RecordState

# -- sides and roles (the coordination roles, so a node's users carry over) -----------

REQUESTER = "requester"
AFFECTED = "affected"
OFFERER = "offerer"
EXECUTOR = "executor"
_ASKING = frozenset({"requester", "liaison", "watch", "admin"})
_ANSWERING = frozenset({"responder", "liaison", "watch", "admin"})

# -- reason codes (names in the catalog: reason.<code>) ---------------------------------

RFA_REASONS: dict[str, frozenset[str]] = {
    RfaStatus.DECLINED: frozenset(
        {
            "duplicate",
            "outside_scope",
            "handled_domestically",
            "insufficient_information",
            "other",
        }
    ),
    RfaStatus.CANCELLED: frozenset(
        {"need_met", "need_changed", "duplicate", "entered_in_error", "other"}
    ),
    RfaStatus.SUPERSEDED: frozenset({"replaced_by_new_request", "need_changed", "other"}),
}
OFFER_REASONS: dict[str, frozenset[str]] = {
    OfferStatus.DECLINED: frozenset(
        {
            "need_met",
            "not_suitable",
            "timing_not_feasible",
            "civilian_alternative_available",
            "conditions_unacceptable",
            "handled_domestically",
            "other",
        }
    ),
    OfferStatus.WITHDRAWN: frozenset(
        {"asset_unavailable", "need_met", "timing_not_feasible", "security_situation", "other"}
    ),
}
TASK_REASONS: dict[str, frozenset[str]] = {
    TaskStatus.CANCELLED: frozenset(
        {"asset_unavailable", "need_met", "security_situation", "offer_withdrawn", "other"}
    ),
}
REASON_CODES = frozenset().union(
    *RFA_REASONS.values(), *OFFER_REASONS.values(), *TASK_REASONS.values()
)


def _only(value: Any) -> frozenset[str]:
    return frozenset({value}) if isinstance(value, str) and value else frozenset()


def _rfa_parties(state: RecordState) -> Mapping[str, frozenset[str]]:
    return {REQUESTER: frozenset({state.origin}), AFFECTED: _only(lc.owned(state, "affected_node"))}


def _offer_parties(state: RecordState) -> Mapping[str, frozenset[str]]:
    # Never the offerer itself: a node may not accept its own offer.
    affected = _only(lc.owned(state, "affected_node")) - {state.origin}
    return {OFFERER: frozenset({state.origin}), AFFECTED: affected}


def _task_parties(state: RecordState) -> Mapping[str, frozenset[str]]:
    return {EXECUTOR: frozenset({state.origin})}


_R = RfaStatus
_RFA_OPEN = (_R.DRAFT, _R.SUBMITTED, _R.VALIDATED, _R.OPEN, _R.COMMITTED)
RFA_LIFECYCLE = Lifecycle(
    noun="RFA",
    ranks={
        _R.DRAFT: 0,
        _R.SUBMITTED: 1,
        _R.VALIDATED: 2,
        _R.OPEN: 3,
        _R.COMMITTED: 4,
        _R.DECLINED: 5,
        _R.CANCELLED: 6,
        _R.SUPERSEDED: 7,
        _R.COMPLETED: 8,
    },
    initial=_R.DRAFT,
    terminal=frozenset({_R.COMPLETED, _R.DECLINED, _R.CANCELLED, _R.SUPERSEDED}),
    transitions={
        (_R.DRAFT, _R.SUBMITTED): REQUESTER,
        (_R.SUBMITTED, _R.VALIDATED): AFFECTED,
        (_R.SUBMITTED, _R.DECLINED): AFFECTED,
        (_R.VALIDATED, _R.DECLINED): AFFECTED,
        (_R.VALIDATED, _R.OPEN): AFFECTED,
        (_R.OPEN, _R.COMMITTED): AFFECTED,
        (_R.COMMITTED, _R.COMPLETED): AFFECTED,
        **{(s, _R.CANCELLED): REQUESTER for s in _RFA_OPEN},
        **{(s, _R.SUPERSEDED): REQUESTER for s in _RFA_OPEN},
    },
    side_roles={REQUESTER: _ASKING, AFFECTED: _ANSWERING},
    owner=REQUESTER,
    fields={
        **dict.fromkeys(
            (
                "incident_id",
                "affected_state",
                "affected_node",
                "requesting_org",
                "site",
                "title",
                "needed_by",
                "lines",
                "military_assets",
                "oslo",
                "superseded_by",
                "close_note",
            ),
            REQUESTER,
        ),
        **dict.fromkeys(("priority", "decision_note"), AFFECTED),
    },
    parties=_rfa_parties,
    refusals={REQUESTER: "not_owner", AFFECTED: "not_affected_state"},
    reasons=RFA_REASONS,
    keep_reason=True,
)

_O = OfferStatus
OFFER_LIFECYCLE = Lifecycle(
    noun="offer",
    ranks={
        _O.OFFERED: 0,
        _O.ACCEPTED: 1,
        _O.IN_TRANSIT: 2,
        _O.DECLINED: 3,
        _O.WITHDRAWN: 4,
        _O.DELIVERED: 5,
    },
    initial=_O.OFFERED,
    terminal=frozenset({_O.DELIVERED, _O.DECLINED, _O.WITHDRAWN}),
    transitions={
        (_O.OFFERED, _O.ACCEPTED): AFFECTED,
        (_O.OFFERED, _O.DECLINED): AFFECTED,
        (_O.ACCEPTED, _O.IN_TRANSIT): OFFERER,
        (_O.ACCEPTED, _O.DELIVERED): OFFERER,
        (_O.IN_TRANSIT, _O.DELIVERED): OFFERER,
        **{(s, _O.WITHDRAWN): OFFERER for s in (_O.OFFERED, _O.ACCEPTED, _O.IN_TRANSIT)},
    },
    side_roles={OFFERER: _ANSWERING, AFFECTED: _ANSWERING},
    owner=OFFERER,
    fields={
        **dict.fromkeys(
            (
                "nation",
                "rfa_id",
                "incident_id",
                "affected_state",
                "affected_node",
                "lines",
                "capability",
                "asset",
                "unit",
                "military",
                "oslo",
                "available_from",
                "available_to",
                "note",
                "progress",
                "close_note",
            ),
            OFFERER,
        ),
        **dict.fromkeys(("accepted_for", "decision_note"), AFFECTED),
    },
    parties=_offer_parties,
    refusals={OFFERER: "not_owner", AFFECTED: "not_affected_state"},
    reasons=OFFER_REASONS,
    keep_reason=True,
)
COMMITTED_OFFER = frozenset({_O.ACCEPTED, _O.IN_TRANSIT, _O.DELIVERED})
LIVE_OFFER = frozenset({_O.OFFERED}) | COMMITTED_OFFER

_T = TaskStatus
TASK_LIFECYCLE = Lifecycle(
    noun="task",
    ranks={_T.PLANNED: 0, _T.IN_PROGRESS: 1, _T.CANCELLED: 2, _T.DONE: 3},
    initial=_T.PLANNED,
    terminal=frozenset({_T.DONE, _T.CANCELLED}),
    transitions={
        (_T.PLANNED, _T.IN_PROGRESS): EXECUTOR,
        (_T.PLANNED, _T.DONE): EXECUTOR,
        (_T.IN_PROGRESS, _T.DONE): EXECUTOR,
        (_T.PLANNED, _T.CANCELLED): EXECUTOR,
        (_T.IN_PROGRESS, _T.CANCELLED): EXECUTOR,
    },
    side_roles={EXECUTOR: _ANSWERING},
    owner=EXECUTOR,
    fields=dict.fromkeys(
        (
            "nation",
            "offer_id",
            "rfa_id",
            "incident_id",
            "unit",
            "due",
            "track_id",
            "description",
            "close_note",
        ),
        EXECUTOR,
    ),
    parties=_task_parties,
    refusals={EXECUTOR: "not_owner"},
    reasons=TASK_REASONS,
    keep_reason=True,
)

merge_rfa = lc.lifecycle_merge(RFA_LIFECYCLE)
merge_offer = lc.lifecycle_merge(OFFER_LIFECYCLE)
merge_task = lc.lifecycle_merge(TASK_LIFECYCLE)
rfa_owner = lc.lifecycle_owner(RFA_LIFECYCLE)
offer_owner = lc.lifecycle_owner(OFFER_LIFECYCLE)
task_owner = lc.lifecycle_owner(TASK_LIFECYCLE)

# -- lines ----------------------------------------------------------------------------

# Base unit per kind, and other units converted to a base one (factor).
BASE_UNITS: dict[str, frozenset[str]] = {
    "item": frozenset({"L", "kcal", "meal", "piece", "m2", "unit"}),  # unit: toilets
    "people": frozenset({"person"}),
    "capability": frozenset({"sortie", "bed", "team", "unit"}),
}
CONVERSIONS: dict[str, tuple[str, float]] = {
    "m3": ("L", 1000.0),
    "kL": ("L", 1000.0),
    "mL": ("L", 0.001),
    "Mcal": ("kcal", 1000.0),
    "pcs": ("piece", 1.0),
    "each": ("piece", 1.0),
    "persons": ("person", 1.0),
    "people": ("person", 1.0),
}
MAX_QUANTITY = 1e12

MESSAGES = Catalog("kizuna.assistance")


def joined(problems: Sequence[Message]) -> Message:
    """Several problems as one detail, each rendered in the reader's language."""
    return MESSAGES.msg(
        "error.problems",
        problems="; ".join(p.render("en") for p in problems),
        problems_ja="; ".join(p.render("ja") for p in problems),
    )


def _finite(
    where: dict[str, Any],
    name: str,
    value: float | None,
    problems: list[Message],
    *,
    positive: bool,
) -> None:
    if value is None:
        return
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        key = "error.line.not-positive" if positive else "error.line.negative"
        problems.append(MESSAGES.msg(key, field=name, **where))
    elif value > MAX_QUANTITY:
        problems.append(
            MESSAGES.msg("error.line.too-large", field=name, limit=MAX_QUANTITY, **where)
        )


def normalise_line(line: LineIn, n: int) -> dict[str, Any]:
    """A line in base units (Invalid for a bad unit, a negative or missing quantity, or
    packs that do not give the quantity stated)."""
    where: dict[str, Any] = {"n": n, "item": line.item}
    problems: list[Message] = []
    _finite(where, "quantity", line.quantity, problems, positive=False)
    _finite(where, "pack_size", line.pack_size, problems, positive=True)
    _finite(where, "packs", line.packs, problems, positive=False)
    unit, factor = line.unit, 1.0
    if unit in CONVERSIONS:
        unit, factor = CONVERSIONS[unit]
    if unit not in BASE_UNITS[line.kind]:
        units = ", ".join(sorted(BASE_UNITS[line.kind]))
        problems.append(
            MESSAGES.msg("error.line.unit", unit=line.unit, kind=line.kind, units=units, **where)
        )
    if (line.packs is None) != (line.pack_size is None):
        problems.append(MESSAGES.msg("error.line.packs-together", **where))
    if problems:
        raise Invalid(joined(problems), errors=[str(p) for p in problems])
    pack_size = None if line.pack_size is None else line.pack_size * factor
    from_packs = None if line.packs is None or pack_size is None else line.packs * pack_size
    quantity = None if line.quantity is None else line.quantity * factor
    if quantity is None and from_packs is None:
        raise Invalid(MESSAGES.msg("error.line.no-quantity", **where))
    if (
        quantity is not None
        and from_packs is not None
        and not math.isclose(quantity, from_packs, rel_tol=1e-9, abs_tol=1e-9)
    ):
        raise Invalid(
            MESSAGES.msg(
                "error.line.packs-mismatch",
                packs=line.packs,
                pack_size=line.pack_size,
                unit=line.unit,
                quantity=line.quantity,
                **where,
            )
        )
    return {
        "item": line.item,
        "kind": line.kind,
        "description": {"en": line.description.en, "ja": line.description.ja},
        "unit": unit,
        "quantity": quantity if quantity is not None else from_packs,
        "pack_size": pack_size,
        "packs": line.packs,
    }


def normalise_lines(lines: Iterable[LineIn]) -> list[dict[str, Any]]:
    out = [normalise_line(line, n) for n, line in enumerate(lines, 1)]
    items = [line["item"] for line in out]
    repeated = sorted({i for i in items if items.count(i) > 1})
    if repeated:
        raise Invalid(MESSAGES.msg("error.lines-repeated", items=", ".join(repeated)))
    return out


# -- derived records --------------------------------------------------------------------


@dataclass
class Closing:
    status: str
    reason: str
    note: str
    node: str
    by: str
    hlc: int


@dataclass
class Rfa:
    id: str
    origin: str
    status: str
    affected_state: str
    affected_node: str
    incident_id: str | None
    lines: list[dict[str, Any]]
    priority: str | None
    closing: Closing | None
    fields: dict[str, Any]


@dataclass
class Offer:
    id: str
    origin: str
    status: str
    rfa_id: str | None
    accepted_for: str | None
    affected_node: str
    lines: list[dict[str, Any]]
    progress: dict[str, dict[str, float]]
    closing: Closing | None
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def committed(self) -> bool:
        return self.status in COMMITTED_OFFER

    def links(self, rfa_id: str) -> bool:
        return rfa_id in (self.rfa_id, self.accepted_for)


def closing(spec: Lifecycle, state: RecordState, side_of_note: str) -> Closing | None:
    """The reason a record was closed (a status with a reason code), if it was."""
    entry = lc.status_entry(state)
    if entry is None or entry["to"] not in spec.reasons:
        return None
    note = lc.latest(state, side_of_note, [entry["node"]], "")
    return Closing(
        entry["to"],
        str(entry.get("reason", "")),
        str(note),
        entry["node"],
        entry["by"],
        entry["hlc"],
    )


def _owned_fields(
    spec: Lifecycle, state: RecordState, side_nodes: Mapping[str, frozenset[str]]
) -> dict[str, Any]:
    """Each field as the side that owns it wrote it last."""
    out: dict[str, Any] = {}
    for key, side in spec.fields.items():
        writers = [state.origin] if side == spec.owner else sorted(side_nodes.get(side, ()))
        out[key] = lc.latest(state, key, writers)
    return out


def derive_rfa(state: RecordState) -> Rfa:
    spec = RFA_LIFECYCLE
    f = _owned_fields(spec, state, spec.parties(state))
    note_key = "decision_note" if lc.status_of(spec, state) == RfaStatus.DECLINED else "close_note"
    return Rfa(
        id=state.record_id,
        origin=state.origin,
        status=str(lc.status_of(spec, state)),
        affected_state=str(f["affected_state"] or ""),
        affected_node=str(f["affected_node"] or ""),
        incident_id=f["incident_id"],
        lines=list(f["lines"] or []),
        priority=f["priority"],
        closing=closing(spec, state, note_key),
        fields=f,
    )


def derive_offer(state: RecordState) -> Offer:
    spec = OFFER_LIFECYCLE
    f = _owned_fields(spec, state, spec.parties(state))
    status = str(lc.status_of(spec, state))
    note_key = "decision_note" if status == OfferStatus.DECLINED else "close_note"
    return Offer(
        id=state.record_id,
        origin=state.origin,
        status=status,
        rfa_id=f["rfa_id"],
        accepted_for=f["accepted_for"],
        affected_node=str(f["affected_node"] or ""),
        lines=list(f["lines"] or []),
        progress=dict(f["progress"] or {}),
        closing=closing(spec, state, note_key),
        fields=f,
    )


def derive_task(state: RecordState) -> dict[str, Any]:
    spec = TASK_LIFECYCLE
    f = _owned_fields(spec, state, spec.parties(state))
    f["status"] = str(lc.status_of(spec, state))
    f["closing"] = closing(spec, state, "close_note")
    return f


# -- roll-ups ---------------------------------------------------------------------------


def coverage(requested: float, committed: float) -> str:
    if committed <= 0:
        return "NONE"
    return "COMPLETE" if committed >= requested else "PARTIAL"


def counted(rfa: Rfa, offers: Iterable[Offer]) -> list[Offer]:
    """The offers that count towards this RFA: linked to it, for the same affected node."""
    return [
        o
        for o in offers
        if o.links(rfa.id) and o.affected_node == rfa.affected_node and o.status in LIVE_OFFER
    ]


def roll_up(rfa: Rfa, offers: Iterable[Offer]) -> tuple[list[dict[str, Any]], str]:
    """Per line: requested, offered, committed, in transit, delivered, gap and coverage;
    and the RFA's coverage: NONE (nothing committed), COMPLETE (every line committed in
    full), else PARTIAL."""
    live = counted(rfa, offers)
    out = []
    for line in rfa.lines:
        item, unit = line["item"], line["unit"]
        offered = committed = in_transit = delivered = 0.0
        for o in live:
            for ol in o.lines:
                if ol["item"] != item or ol["unit"] != unit:
                    continue
                offered += ol["quantity"]
                if o.committed:
                    committed += ol["quantity"]
                    p = o.progress.get(item, {})
                    in_transit += float(p.get("in_transit", 0.0))
                    delivered += float(p.get("delivered", 0.0))
        requested = float(line["quantity"])
        out.append(
            {
                **line,
                "requested": requested,
                "offered": offered,
                "committed": committed,
                "in_transit": in_transit,
                "delivered": delivered,
                "gap": max(0.0, requested - committed),
                "coverage": coverage(requested, committed),
            }
        )
    if not out or all(line["committed"] <= 0 for line in out):
        total = "NONE"
    elif all(line["coverage"] == "COMPLETE" for line in out):
        total = "COMPLETE"
    else:
        total = "PARTIAL"
    return out, total


def progress_problems(offer: Offer, progress: Mapping[str, Mapping[str, float]]) -> list[Message]:
    """Reported totals must name the offer's lines and stay within what was offered."""
    offered = {line["item"]: float(line["quantity"]) for line in offer.lines}
    problems = []
    for item, p in progress.items():
        if item not in offered:
            problems.append(MESSAGES.msg("error.progress.not-a-line", item=item))
            continue
        total = float(p.get("in_transit", 0.0)) + float(p.get("delivered", 0.0))
        if total > offered[item] * (1 + 1e-9):
            problems.append(
                MESSAGES.msg(
                    "error.progress.exceeds", item=item, total=total, offered=offered[item]
                )
            )
    return problems
