"""Records with a lifecycle shared by sides: one reusable, pure piece.

A :class:`Lifecycle` names a record type's statuses (ranked, some terminal), the
transitions between them and the *side* entitled to each, the fields each side writes,
the actions only the record's owner takes, the transitions that need a reason (free
text, or one of a fixed list of codes) and the roles that let a user act for a side.
From it come the three things a record type needs:

* :func:`lifecycle_merge` — the event-log merge (commutative, associative, idempotent:
  the state depends only on the set of events):

  - status is a lattice: the transition with the highest (rank, hlc, origin, seq) wins,
    so concurrent moves on cut-off nodes converge; terminal states should outrank open
    ones so they stick;
  - every ``set`` write is kept per origin, last-writer-wins within an origin; which
    origin's write counts is decided when the record is read (content from the owner,
    a response from the side that owns it), so arrival order never matters, not even
    whether the create came first;
  - child entries (comments, attachments) append, keyed by id, first write kept.

* :func:`lifecycle_owner` — the ownership rule federation applies at receipt: owner
  actions and owner fields from the owner side only (``not_owner``), another side's
  fields only from that side (its refusal code), a transition only from the side
  :attr:`Lifecycle.transitions` gives it to (``not_entitled``), anything else only from
  a party (``not_party``). Nothing is refused before the create has arrived.

* :func:`allowed_transitions` / :func:`check_transition` — the same rules for a node's
  own users, with the reason check.

Who is on which side comes from :attr:`Lifecycle.parties`, a pure function of the
merged state (the owner side is the record's origin; others are named in its content).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from kizuna.core.catalog import Catalog, Message
from kizuna.core.errors import Conflict, Forbidden, Invalid
from kizuna.core.labels import Label, LabelError, sort_rel_to
from kizuna.core.merge import Merge
from kizuna.core.records import Event, Precedence, RecordState

MESSAGES = Catalog("kizuna.core")

Parties = Callable[[RecordState], Mapping[str, frozenset[str]]]
"""The nodes on each side of a record, from its merged state."""


@dataclass(frozen=True)
class Child:
    """Entries an action appends to a table inside the record (comments, attachments):
    ``make`` turns the event's payload into the entry's data."""

    table: str
    make: Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Lifecycle:
    """A record type's lifecycle and who owns what of it (see the module docstring)."""

    noun: str  # for problem details: "request", "RFA", "offer"
    ranks: Mapping[str, int]
    initial: str
    terminal: frozenset[str]
    transitions: Mapping[tuple[str, str], str]  # (from, to) -> entitled side
    side_roles: Mapping[str, frozenset[str]]  # in check order; the owner side first
    owner: str  # the side of the record's originator
    fields: Mapping[str, str]  # field -> the side that writes it
    parties: Parties
    refusals: Mapping[str, str] = field(default_factory=dict)  # side -> code (not_owner)
    owner_actions: frozenset[str] = frozenset({"create", "edit"})
    # target -> allowed reason codes; an empty set: any text that is not blank
    reasons: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # target -> problem detail (a catalog message, rendered in the caller's language)
    reason_texts: Mapping[str, str | Message] = field(default_factory=dict)
    children: Mapping[str, Child] = field(default_factory=dict)
    keep_reason: bool = False  # keep a transition's ``reason`` in the status entry

    def __post_init__(self) -> None:
        for (frm, to), side in self.transitions.items():
            if self.ranks[frm] >= self.ranks[to]:
                raise ValueError(f"{frm} → {to} must climb the lattice")
            if side not in self.side_roles:
                raise ValueError(f"{frm} → {to}: unknown side {side!r}")
        if self.owner not in self.side_roles:
            raise ValueError(f"unknown owner side {self.owner!r}")

    def side_fields(self, side: str) -> frozenset[str]:
        return frozenset(k for k, s in self.fields.items() if s == side)

    def rank(self, status: str) -> int:
        return self.ranks[status]


# -- who may act ----------------------------------------------------------------


def may_act(spec: Lifecycle, roles: Iterable[str], side: str) -> bool:
    """A user may act for a side if they hold no role or one of the side's roles."""
    held = set(roles)
    return not held or bool(held & spec.side_roles[side])


def sides_of(spec: Lifecycle, state: RecordState, node: str) -> frozenset[str]:
    """The sides ``node`` stands on for this record."""
    return frozenset(side for side, nodes in spec.parties(state).items() if node in nodes)


def allowed_transitions(
    spec: Lifecycle, status: str, sides: Iterable[str], roles: Iterable[str]
) -> list[str]:
    """Target states this user may move the record to now, in lifecycle order."""
    roles = list(roles)
    acting = {s for s in sides if may_act(spec, roles, s)}
    targets = [
        to for (frm, to), side in spec.transitions.items() if frm == status and side in acting
    ]
    return [str(t) for t in sorted(targets, key=spec.ranks.__getitem__)]


def _noun_ja(noun: str) -> str:
    """A lifecycle's noun in Japanese where the core catalog names it (else as it is)."""
    key = f"noun.{noun}"
    return MESSAGES.get("ja", key) if MESSAGES.has(key) else noun


def check_transition(
    spec: Lifecycle,
    status: str,
    to: str,
    sides: Iterable[str],
    roles: Iterable[str],
    reason: str,
) -> str:
    """Validate a local transition, listing what is allowed when it raises: Invalid for a
    malformed move or a missing or unknown reason, Conflict (409) for one the record's
    current status does not allow, Forbidden for one that is another side's. Returns the
    target status as ``spec.ranks`` spells it."""
    sides = frozenset(sides)
    roles = list(roles)
    allowed = allowed_transitions(spec, status, sides, roles)
    target = next((s for s in spec.ranks if s == to), None)
    if target is None:
        raise Invalid(MESSAGES.msg("error.unknown-status", status=to), allowed_transitions=allowed)
    side = spec.transitions.get((status, target))
    if side is None:
        raise Conflict(
            MESSAGES.msg(
                "error.transition-not-allowed",
                noun=spec.noun,
                noun_ja=_noun_ja(spec.noun),
                status=status,
                target=target,
            ),
            allowed_transitions=allowed,
        )
    if side not in sides or not may_act(spec, roles, side):
        raise Forbidden(
            MESSAGES.msg(
                "error.transition-other-side",
                status=status,
                target=target,
                side=side,
                roles=", ".join(sorted(spec.side_roles[side])),
            ),
            allowed_transitions=allowed,
        )
    codes = spec.reasons.get(target)
    if codes is not None:
        if not reason.strip():
            detail = spec.reason_texts.get(target) or MESSAGES.msg(
                "error.reason-needed", target=target
            )
            extra = {"errors": [f"reason: one of {', '.join(sorted(codes))}"]} if codes else {}
            raise Invalid(detail, allowed_transitions=allowed, **extra)
        if codes and reason.strip() not in codes:
            raise Invalid(
                MESSAGES.msg("error.unknown-reason", reason=reason, target=target),
                allowed_transitions=allowed,
                errors=[f"reason: one of {', '.join(sorted(codes))}"],
            )
    return target


# -- labels inside payloads -----------------------------------------------------


def label_to_dict(label: Label) -> dict[str, Any]:
    """A canonical (sorted) plain form, so equal labels encode to equal bytes."""
    return {
        "classification": int(label.classification),
        "rel_to": sort_rel_to(label.rel_to),
        "noforn": label.noforn,
        "exercise": label.exercise,
        "originator": label.originator,
    }


def label_from_dict(data: Any) -> Label | None:
    try:
        return msgspec.convert(data, Label)
    except (msgspec.ValidationError, LabelError, TypeError, ValueError):
        return None


# -- merge ----------------------------------------------------------------------

_ZERO = (0, "", 0)


def order_key(entry: Any) -> tuple[int, str, int]:
    return (int(entry["hlc"]), str(entry["node"]), int(entry["seq"]))


def _write(state: RecordState, origin: str, key: str, value: Any, event: Event) -> None:
    """Last-writer-wins for ``key`` among the writes of one origin."""
    bucket = state.fields.setdefault("w", {}).setdefault(origin, {})
    current = bucket.get(key)
    if current is None or (current[1], current[2]) < (event.hlc, event.seq):
        bucket[key] = [value, event.hlc, event.seq]


def keep_first(table: dict[str, Any], key: str, entry: dict[str, Any]) -> None:
    current = table.get(key)
    if current is None or order_key(entry) < order_key(current):
        table[key] = entry


def is_entry(value: Any, node: str | None = None) -> bool:
    """A merge entry as :func:`lifecycle_merge` writes them (of ``node`` when given)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("hlc"), int)
        and isinstance(value.get("node"), str)
        and isinstance(value.get("seq"), int)
        and (node is None or value["node"] == node)
    )


def _later_status(spec: Lifecycle, f: dict[str, Any], entry: dict[str, Any]) -> None:
    """Keep the furthest status (by rank, then order), whichever arrives first."""
    current = f.get("status")
    if current is None or (spec.ranks[entry["to"]], *order_key(entry)) > (
        spec.ranks[current["to"]],
        *order_key(current),
    ):
        f["status"] = entry


def _known(spec: Lifecycle, value: Any) -> bool:
    return isinstance(value, str) and value in spec.ranks


def lifecycle_merge(spec: Lifecycle) -> Merge:
    """The merge of a record type with this lifecycle (pure, order-independent).

    Payloads: ``{"action": "create" | "edit" | "transition" | <child action> | …,
    "set": {field: value}, "from": s, "to": s, "id": child id, …}``; a create or an edit
    also writes the event's label and precedence as the origin's. An edit with
    ``"whole": true`` may carry the owner's ``create`` entry and the ``status`` entry,
    for a node a widened label reaches for the first time."""
    writable = frozenset(spec.fields)

    def merge(state: RecordState | None, event: Event) -> RecordState:
        if state is None:
            state = RecordState(
                record_type=event.record_type,
                record_id=event.record_id,
                origin=event.origin,
                label=event.label,
                precedence=event.precedence,
                fields={},
                clocks={},
                base=_ZERO,
                created_hlc=event.hlc,
                updated_hlc=event.hlc,
            )
        f = state.fields
        me = {"hlc": event.hlc, "node": event.origin, "seq": event.seq, "by": event.author}
        payload = event.payload if isinstance(event.payload, dict) else {}
        action = payload.get("action")
        sets = payload.get("set")
        if isinstance(sets, dict):
            for key, value in sets.items():
                if key in writable:
                    _write(state, event.origin, key, value, event)
        if event.op == "create" or action == "edit":
            _write(state, event.origin, "label", label_to_dict(event.label), event)
            _write(state, event.origin, "precedence", int(event.precedence), event)
        if event.op == "create":
            keep_first(f, "create", me)
        if action == "edit" and payload.get("whole"):
            if is_entry(payload.get("create"), event.origin):
                keep_first(f, "create", payload["create"])
            status = payload.get("status")
            if isinstance(status, dict) and is_entry(status) and _known(spec, status.get("to")):
                _later_status(spec, f, status)
        if event.op == "tombstone":
            f.setdefault("tombstones", {})[event.origin] = True
        if action == "transition" and _known(spec, payload.get("to")):
            entry = {**me, "to": str(payload["to"]), "from": str(payload.get("from", ""))}
            if spec.keep_reason:
                entry["reason"] = str(payload.get("reason", ""))
            _later_status(spec, f, entry)
        child = spec.children.get(action) if isinstance(action, str) else None
        if child is not None and isinstance(payload.get("id"), str):
            keep_first(
                f.setdefault(child.table, {}),
                payload["id"],
                {**me, **child.make(payload), "label": label_to_dict(event.label)},
            )
        stamped = {**me, "label": label_to_dict(event.label), "precedence": int(event.precedence)}
        keep_first(f, "first", stamped)
        last = f.get("last")
        if last is None or order_key(stamped) > order_key(last):
            f["last"] = stamped
        _settle(state)
        return state

    return merge


def _settle(state: RecordState) -> None:
    """Recompute the envelope from the merged fields alone, so order never shows."""
    f = state.fields
    create, first, last = f.get("create"), f["first"], f["last"]
    genesis = create or first
    state.origin = genesis["node"]
    state.created_hlc = genesis["hlc"]
    state.created_by = genesis["by"]
    state.updated_hlc = last["hlc"]
    state.updated_by = last["by"]
    owned = f.get("w", {}).get(state.origin, {}) if create is not None else {}
    label = label_from_dict(owned["label"][0]) if "label" in owned else None
    if label is not None:
        state.label = label
        state.precedence = Precedence(owned["precedence"][0])
    else:  # no content from the owner yet: the latest event's envelope stands in
        state.label = label_from_dict(last["label"]) or state.label
        state.precedence = Precedence(last["precedence"])
    state.deleted = create is not None and state.origin in f.get("tombstones", {})


def is_complete(state: RecordState) -> bool:
    """True once the owner's create has arrived (earlier events wait for it)."""
    return "create" in state.fields and not state.deleted


# -- reading the merged state -----------------------------------------------------


def owned(state: RecordState, key: str, default: Any = None) -> Any:
    """A field as the record's owner (its origin) last wrote it."""
    write = state.fields.get("w", {}).get(state.origin, {}).get(key)
    return default if write is None else write[0]


def latest(state: RecordState, key: str, writers: Iterable[str], default: Any = None) -> Any:
    """A field as the latest of ``writers`` wrote it (by hlc, node, seq)."""
    buckets: dict[str, dict[str, Any]] = state.fields.get("w", {})
    best = None
    for node in writers:
        write = buckets.get(node, {}).get(key)
        if write is not None and (best is None or (write[1], node, write[2]) > best[0]):
            best = ((write[1], node, write[2]), write[0])
    return default if best is None else best[1]


def status_of(spec: Lifecycle, state: RecordState) -> str:
    entry = state.fields.get("status")
    if entry is None:
        return spec.initial
    return next(s for s in spec.ranks if s == entry["to"])


def status_entry(state: RecordState) -> dict[str, Any] | None:
    """The winning transition (``to``, ``from``, ``node``, ``by``, ``hlc``), if any."""
    entry = state.fields.get("status")
    return dict(entry) if isinstance(entry, dict) else None


# -- ownership at receipt ---------------------------------------------------------


def lifecycle_owner(spec: Lifecycle) -> Callable[[RecordState | None, Event], str | None]:
    """The :class:`~kizuna.kernel.contract.RecordType` ownership rule of this lifecycle
    (None: the event's origin may write what it writes). See the module docstring."""
    groups = [(side, spec.side_fields(side)) for side in spec.side_roles]

    def owner(state: RecordState | None, event: Event) -> str | None:
        if state is None or "create" not in state.fields:
            return None
        sides = sides_of(spec, state, event.origin)
        payload = event.payload if isinstance(event.payload, dict) else {}
        action = payload.get("action")
        owner_only = event.op in ("create", "tombstone") or action in spec.owner_actions
        if owner_only and spec.owner not in sides:
            return spec.refusals.get(spec.owner, "not_owner")
        sets = payload.get("set")
        if isinstance(sets, dict):
            for side, keys in groups:
                if side not in sides and not keys.isdisjoint(sets):
                    return spec.refusals.get(side, f"not_{side}")
        if action == "transition":
            step = (str(payload.get("from")), str(payload.get("to")))
            if spec.transitions.get(step) not in sides:
                return "not_entitled"
        if not sides:
            return "not_party"
        return None

    return owner
