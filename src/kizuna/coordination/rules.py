"""Pure rules for coordination requests: lifecycle, who may act, merge, derived views.

Lifecycle::

    DRAFT → SUBMITTED → ACKNOWLEDGED → ACCEPTED → IN_PROGRESS → COMPLETED
                                    ↘ DECLINED (reason required)
    any state before a terminal one → CANCELLED (requester side)

Who may act: the *requester side* is every user of the requester node, the
*addressee side* every user of an addressee node (on a node that is both,
a user may be on both sides). Within a side, a user may act if they hold one
of that side's roles (requester: requester/liaison/watch/admin; addressee:
responder/liaison/watch/admin) or hold no role at all (an ordinary operator).
A user whose roles are all elsewhere (e.g. only ``viewer``, or only
``responder`` on the requester side) may not act for that side.

Merge (commutative, associative, idempotent; the state depends only on the
set of events):

* status: a lattice — the transition with the highest (rank, hlc, origin, seq)
  wins. Terminal states outrank every open state, so they stick; ranks
  DECLINED < CANCELLED < COMPLETED settle concurrent terminal moves.
* content (addressees, kind, title, body, links, due, label, precedence,
  attachments) counts only from the requester node (origin of the earliest
  create); response fields (response, decline_reason) only from addressee
  nodes. Writes are kept per origin, last-writer-wins within an origin, and the
  owner's writes are chosen when the record is read, so arrival order never
  matters — not even whether the create arrived first.
* comments append; each is keyed by its id and ordered by (hlc, origin, seq).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from kizuna.coordination.models import Status
from kizuna.core.errors import Conflict, Forbidden, Invalid
from kizuna.core.labels import Label, LabelError, sort_rel_to
from kizuna.core.records import Event, Precedence, RecordState, Text

# -- lifecycle ----------------------------------------------------------------

RANK: dict[Status, int] = {
    Status.DRAFT: 0,
    Status.SUBMITTED: 1,
    Status.ACKNOWLEDGED: 2,
    Status.ACCEPTED: 3,
    Status.IN_PROGRESS: 4,
    Status.DECLINED: 5,
    Status.CANCELLED: 6,
    Status.COMPLETED: 7,
}
TERMINAL = frozenset({Status.DECLINED, Status.CANCELLED, Status.COMPLETED})

REQUESTER = "requester"
ADDRESSEE = "addressee"
SIDE_ROLES: dict[str, frozenset[str]] = {
    REQUESTER: frozenset({"requester", "liaison", "watch", "admin"}),
    ADDRESSEE: frozenset({"responder", "liaison", "watch", "admin"}),
}

_OPEN = (Status.DRAFT, Status.SUBMITTED, Status.ACKNOWLEDGED, Status.ACCEPTED, Status.IN_PROGRESS)
TRANSITIONS: dict[tuple[Status, Status], str] = {
    (Status.DRAFT, Status.SUBMITTED): REQUESTER,
    (Status.SUBMITTED, Status.ACKNOWLEDGED): ADDRESSEE,
    (Status.ACKNOWLEDGED, Status.ACCEPTED): ADDRESSEE,
    (Status.ACKNOWLEDGED, Status.DECLINED): ADDRESSEE,
    (Status.ACCEPTED, Status.IN_PROGRESS): ADDRESSEE,
    (Status.IN_PROGRESS, Status.COMPLETED): ADDRESSEE,
    **{(s, Status.CANCELLED): REQUESTER for s in _OPEN},
}
assert all(RANK[a] < RANK[b] for a, b in TRANSITIONS), "transitions must climb the lattice"


def may_act(roles: Iterable[str], side: str) -> bool:
    """A user may act for a side if they hold no role or one of the side's roles."""
    held = set(roles)
    return not held or bool(held & SIDE_ROLES[side])


def caller_sides(node_id: str, requester: str, addressees: Sequence[str]) -> frozenset[str]:
    """Which sides a user of ``node_id`` is on."""
    sides = set()
    if node_id == requester:
        sides.add(REQUESTER)
    if node_id in addressees:
        sides.add(ADDRESSEE)
    return frozenset(sides)


def allowed_transitions(status: Status, sides: Iterable[str], roles: Iterable[str]) -> list[str]:
    """Target states this user may move the request to now, in lifecycle order."""
    acting = {s for s in sides if may_act(roles, s)}
    targets = [to for (frm, to), side in TRANSITIONS.items() if frm == status and side in acting]
    return [t.value for t in sorted(targets, key=RANK.__getitem__)]


def check_transition(
    status: Status, to: str, sides: Iterable[str], roles: Iterable[str], reason: str
) -> Status:
    """Validate a local transition, listing what is allowed when it raises: Invalid for a
    malformed move, Conflict (409) for one the request's current status does not allow,
    Forbidden for one that is another side's."""
    sides = frozenset(sides)
    roles = list(roles)
    allowed = allowed_transitions(status, sides, roles)
    try:
        target = Status(to)
    except ValueError:
        raise Invalid(f"unknown status {to!r}", allowed_transitions=allowed) from None
    side = TRANSITIONS.get((status, target))
    if side is None:
        raise Conflict(
            f"a request cannot go from {status.value} to {target.value}",
            allowed_transitions=allowed,
        )
    if side not in sides or not may_act(roles, side):
        raise Forbidden(
            f"{status.value} → {target.value} is for the {side} side "
            f"({', '.join(sorted(SIDE_ROLES[side]))} or no role)",
            allowed_transitions=allowed,
        )
    if target is Status.DECLINED and not reason.strip():
        raise Invalid("declining needs a reason", allowed_transitions=allowed)
    return target


# -- content checks -----------------------------------------------------------

MAX_COMMENT = 10_000


def comment_problems(text: Text) -> list[str]:
    if not (text.en.strip() or text.ja.strip()):
        return ["comment needs English or Japanese text"]
    if max(len(text.en), len(text.ja)) > MAX_COMMENT:
        return [f"comment longer than {MAX_COMMENT} characters"]
    return []


# -- labels inside payloads ---------------------------------------------------


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


# -- merge --------------------------------------------------------------------

CONTENT_FIELDS = frozenset(
    {"addressees", "kind", "title", "body", "original_language", "links", "due", "due_auto"}
)
RESPONSE_FIELDS = frozenset({"response", "decline_reason"})
_ZERO = (0, "", 0)


def _order_key(entry: Any) -> tuple[int, str, int]:
    return (int(entry["hlc"]), str(entry["node"]), int(entry["seq"]))


def _write(state: RecordState, origin: str, key: str, value: Any, event: Event) -> None:
    """Last-writer-wins for ``key`` among the writes of one origin."""
    bucket = state.fields.setdefault("w", {}).setdefault(origin, {})
    current = bucket.get(key)
    if current is None or (current[1], current[2]) < (event.hlc, event.seq):
        bucket[key] = [value, event.hlc, event.seq]


def _keep_first(table: dict[str, Any], key: str, entry: dict[str, Any]) -> None:
    current = table.get(key)
    if current is None or _order_key(entry) < _order_key(current):
        table[key] = entry


def _is_entry(value: Any, node: str | None = None) -> bool:
    """A merge entry as :func:`merge_request` writes them (of ``node`` when given)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("hlc"), int)
        and isinstance(value.get("node"), str)
        and isinstance(value.get("seq"), int)
        and (node is None or value["node"] == node)
    )


def _later_status(f: dict[str, Any], entry: dict[str, Any]) -> None:
    """Keep the furthest status (by rank, then order), whichever arrives first."""
    current = f.get("status")
    if current is None or (RANK[Status(entry["to"])], *_order_key(entry)) > (
        RANK[Status(current["to"])],
        *_order_key(current),
    ):
        f["status"] = entry


def merge_request(state: RecordState | None, event: Event) -> RecordState:
    """Merge one event into a request's state (pure, order-independent)."""
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
            if key in CONTENT_FIELDS or key in RESPONSE_FIELDS:
                _write(state, event.origin, key, value, event)
    if event.op == "create" or action == "edit":
        _write(state, event.origin, "label", label_to_dict(event.label), event)
        _write(state, event.origin, "precedence", int(event.precedence), event)
    if event.op == "create":
        _keep_first(f, "create", me)
    if action == "edit" and payload.get("whole"):
        # A widening edit: the requester's create and status, for a node that never had them.
        if _is_entry(payload.get("create"), event.origin):
            _keep_first(f, "create", payload["create"])
        status = payload.get("status")
        if _is_entry(status) and status.get("to") in Status.__members__:
            _later_status(f, status)
    if event.op == "tombstone":
        f.setdefault("tombstones", {})[event.origin] = True
    if action == "transition" and payload.get("to") in Status.__members__:
        to = Status(payload["to"])
        _later_status(f, {**me, "to": to.value, "from": str(payload.get("from", ""))})
    if action == "comment" and isinstance(payload.get("id"), str):
        _keep_first(
            f.setdefault("comments", {}),
            payload["id"],
            {**me, "text": payload.get("text", {}), "label": label_to_dict(event.label)},
        )
    if action == "attach" and isinstance(payload.get("id"), str):
        _keep_first(
            f.setdefault("attachments", {}),
            payload["id"],
            {
                **me,
                "name": str(payload.get("name", "")),
                "media_type": str(payload.get("media_type", "application/octet-stream")),
                "content": payload.get("content", b""),
                "label": label_to_dict(event.label),
            },
        )
    stamped = {**me, "label": label_to_dict(event.label), "precedence": int(event.precedence)}
    _keep_first(f, "first", stamped)
    last = f.get("last")
    if last is None or _order_key(stamped) > _order_key(last):
        f["last"] = stamped
    _settle(state)
    return state


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
    else:  # no content from the requester yet: the latest event's envelope stands in
        state.label = label_from_dict(last["label"]) or state.label
        state.precedence = Precedence(last["precedence"])
    state.deleted = create is not None and state.origin in f.get("tombstones", {})


def is_complete(state: RecordState) -> bool:
    """True once the requester's create has arrived (earlier events wait for it)."""
    return "create" in state.fields and not state.deleted


# -- ownership at receipt ------------------------------------------------------

_REQUESTER_ACTIONS = frozenset({"create", "edit", "attach"})


def request_owner(state: RecordState | None, event: Event) -> str | None:
    """Whether the origin of a peer's event may write what it writes to this request
    (the :class:`~kizuna.kernel.contract.RecordType` ownership rule; None: it may).

    Once the requester's create is here, so the parties are known: the create, edits
    (label, precedence), attachments, tombstones and content fields come only from the
    requester node (``not_owner``); response fields only from an addressee node
    (``not_addressee``); a transition only from the side :data:`TRANSITIONS` gives it to
    (``not_entitled``); anything else, comments included, only from a party
    (``not_party``). The same rules the API applies to the node's own users, by node.
    Before the create has arrived nothing is refused here: the merge keeps each origin's
    writes apart and reading takes content from the requester, responses from addressees.
    """
    if state is None or "create" not in state.fields:
        return None
    r = derive(state)
    sides = caller_sides(event.origin, r.requester, r.addressees)
    payload = event.payload if isinstance(event.payload, dict) else {}
    action = payload.get("action")
    requester_only = event.op in ("create", "tombstone") or action in _REQUESTER_ACTIONS
    if requester_only and REQUESTER not in sides:
        return "not_owner"
    sets = payload.get("set")
    if isinstance(sets, dict):
        if REQUESTER not in sides and not CONTENT_FIELDS.isdisjoint(sets):
            return "not_owner"
        if ADDRESSEE not in sides and not RESPONSE_FIELDS.isdisjoint(sets):
            return "not_addressee"
    if action == "transition":
        try:
            step = (Status(str(payload.get("from"))), Status(str(payload.get("to"))))
        except ValueError:
            return "not_entitled"
        if TRANSITIONS.get(step) not in sides:
            return "not_entitled"
    if not sides:
        return "not_party"
    return None


# -- derived views ------------------------------------------------------------


@dataclass
class Entry:
    """A comment or attachment as merged: its own label and where it came from."""

    id: str
    label: Label
    node: str
    author: str
    hlc: int
    data: dict[str, Any]


@dataclass
class Request:
    """A request as its owners wrote it (requester content, addressee response)."""

    id: str
    requester: str
    addressees: list[str]
    kind: str
    status: Status
    due: float | None
    due_auto: bool
    title: dict[str, str]
    body: dict[str, str]
    original_language: str
    links: list[dict[str, str]]
    response: dict[str, str] | None
    decline_reason: str
    comments: list[Entry] = field(default_factory=list)
    attachments: list[Entry] = field(default_factory=list)


def _value(bucket: dict[str, Any], key: str, default: Any) -> Any:
    write = bucket.get(key)
    return default if write is None else write[0]


def _entries(table: dict[str, Any], keep: Iterable[str] | None = None) -> list[Entry]:
    nodes = None if keep is None else set(keep)
    out = []
    for key, e in sorted(table.items(), key=lambda kv: (_order_key(kv[1]), kv[0])):
        label = label_from_dict(e.get("label"))
        if label is None or (nodes is not None and e["node"] not in nodes):
            continue
        data = {k: v for k, v in e.items() if k not in ("hlc", "node", "seq", "by", "label")}
        out.append(Entry(key, label, e["node"], e["by"], e["hlc"], data))
    return out


def derive(state: RecordState) -> Request:
    f = state.fields
    buckets: dict[str, dict[str, Any]] = f.get("w", {})
    mine = buckets.get(state.origin, {})
    addressees = [str(a) for a in _value(mine, "addressees", [])]
    response: dict[str, Any] = {}
    for key in RESPONSE_FIELDS:
        best = None
        for node in addressees:
            write = buckets.get(node, {}).get(key)
            if write is not None and (best is None or (write[1], node, write[2]) > best[0]):
                best = ((write[1], node, write[2]), write[0])
        if best is not None:
            response[key] = best[1]
    status = f.get("status")
    due = _value(mine, "due", None)
    return Request(
        id=state.record_id,
        requester=state.origin,
        addressees=addressees,
        kind=str(_value(mine, "kind", "other")),
        status=Status(status["to"]) if status else Status.DRAFT,
        due=float(due) if isinstance(due, int | float) else None,
        due_auto=bool(_value(mine, "due_auto", False)),
        title=_value(mine, "title", {"en": "", "ja": ""}),
        body=_value(mine, "body", {"en": "", "ja": ""}),
        original_language=str(_value(mine, "original_language", "en")),
        links=list(_value(mine, "links", [])),
        response=response.get("response"),
        decline_reason=str(response.get("decline_reason", "")),
        comments=_entries(f.get("comments", {})),
        attachments=_entries(f.get("attachments", {}), keep=[state.origin]),
    )


def is_overdue(request: Request, now: float) -> bool:
    """Open (not terminal) and past its due time."""
    return request.status not in TERMINAL and request.due is not None and now > request.due


@dataclass
class Change:
    """One timeline entry, with the label of the event it came from."""

    label: Label
    hlc: int
    actor: str
    node: str
    action: str
    from_: str | None
    to: str | None
    reason: str


def timeline(events: Iterable[Event]) -> list[Change]:
    """Every change to a request, in (hlc, origin, seq) order."""
    out = []
    for e in sorted(events, key=lambda e: e.order):
        p = e.payload if isinstance(e.payload, dict) else {}
        action = str(p.get("action", e.op))
        frm = to = None
        if action == "transition":
            frm, to = str(p.get("from", "")) or None, str(p.get("to", "")) or None
        elif e.op == "create":
            to = Status.DRAFT.value
        out.append(
            Change(e.label, e.hlc, e.author, e.origin, action, frm, to, str(p.get("reason", "")))
        )
    return out
