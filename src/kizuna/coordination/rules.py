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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from kizuna.coordination.models import Status
from kizuna.core import lifecycle as lc
from kizuna.core.catalog import Catalog, Message
from kizuna.core.labels import Label
from kizuna.core.lifecycle import Child, Lifecycle, label_from_dict
from kizuna.core.lifecycle import label_to_dict as label_to_dict  # re-exported
from kizuna.core.records import Event, RecordState, Text

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

CONTENT_FIELDS = frozenset(
    {"addressees", "kind", "title", "body", "original_language", "links", "due", "due_auto"}
)
RESPONSE_FIELDS = frozenset({"response", "decline_reason"})


def _parties(state: RecordState) -> Mapping[str, frozenset[str]]:
    """The requester node (the create's origin) and the addressees its content names."""
    addressees = lc.owned(state, "addressees", [])
    return {
        REQUESTER: frozenset({state.origin}),
        ADDRESSEE: frozenset(str(a) for a in addressees)
        if isinstance(addressees, list)
        else frozenset(),
    }


MESSAGES = Catalog("kizuna.coordination")


def joined(problems: Sequence[str | Message]) -> Message:
    """Several problems as one detail, each rendered in the reader's language (a plain
    string, from a check that has no catalog message yet, as it is)."""

    def text(p: str | Message, language: str) -> str:
        return p.render(language) if isinstance(p, Message) else p

    return MESSAGES.msg(
        "error.problems",
        problems="; ".join(text(p, "en") for p in problems),
        problems_ja="; ".join(text(p, "ja") for p in problems),
    )


LIFECYCLE = Lifecycle(
    noun="request",
    ranks=cast("Mapping[str, int]", RANK),
    initial=Status.DRAFT,
    terminal=TERMINAL,
    transitions=cast("Mapping[tuple[str, str], str]", TRANSITIONS),
    side_roles=SIDE_ROLES,
    owner=REQUESTER,
    fields={
        **dict.fromkeys(CONTENT_FIELDS, REQUESTER),
        **dict.fromkeys(RESPONSE_FIELDS, ADDRESSEE),
    },
    parties=_parties,
    refusals={REQUESTER: "not_owner", ADDRESSEE: "not_addressee"},
    owner_actions=frozenset({"create", "edit", "attach"}),
    reasons={Status.DECLINED: frozenset()},
    reason_texts={Status.DECLINED: MESSAGES.msg("error.decline-reason")},
    children={
        "comment": Child("comments", lambda p: {"text": p.get("text", {})}),
        "attach": Child(
            "attachments",
            lambda p: {
                "name": str(p.get("name", "")),
                "media_type": str(p.get("media_type", "application/octet-stream")),
                "content": p.get("content", b""),
            },
        ),
    },
)


def may_act(roles: Iterable[str], side: str) -> bool:
    """A user may act for a side if they hold no role or one of the side's roles."""
    return lc.may_act(LIFECYCLE, roles, side)


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
    return lc.allowed_transitions(LIFECYCLE, status, sides, roles)


def check_transition(
    status: Status, to: str, sides: Iterable[str], roles: Iterable[str], reason: str
) -> Status:
    """Validate a local transition, listing what is allowed when it raises: Invalid for a
    malformed move, Conflict (409) for one the request's current status does not allow,
    Forbidden for one that is another side's."""
    return Status(lc.check_transition(LIFECYCLE, status, to, sides, roles, reason))


# -- content checks -----------------------------------------------------------

MAX_COMMENT = 10_000


def comment_problems(text: Text) -> list[Message]:
    if not (text.en.strip() or text.ja.strip()):
        return [MESSAGES.msg("error.comment-needed")]
    if max(len(text.en), len(text.ja)) > MAX_COMMENT:
        return [MESSAGES.msg("error.comment-too-long", limit=MAX_COMMENT)]
    return []


# -- merge and ownership at receipt ----------------------------------------------

_order_key = lc.order_key

merge_request = lc.lifecycle_merge(LIFECYCLE)
merge_request.__doc__ = "Merge one event into a request's state (pure, order-independent)."

is_complete = lc.is_complete

request_owner = lc.lifecycle_owner(LIFECYCLE)
request_owner.__doc__ = """Whether the origin of a peer's event may write what it writes to this request
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
