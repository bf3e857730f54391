"""Coordination requests through the event log: writes checked and audited, reads
release-filtered; request changes and overdue flags pushed on the node's bus.

Every commit that changes a complete request (local or federated) is published
on topic ``request``; :meth:`RequestService.watch_overdue` publishes ``overdue``
once per request and due time. Both carry :func:`request_summary` and the
request's label, so the bus releases each only to sessions that may see it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import structlog

from kizuna.coordination.models import (
    MAX_ATTACHMENT_BYTES,
    REQUEST,
    AttachmentIn,
    CommentIn,
    Link,
    RequestIn,
    RequestOut,
    RequestPatch,
    Status,
    TransitionIn,
)
from kizuna.coordination.rules import (
    ADDRESSEE,
    REQUESTER,
    TERMINAL,
    Entry,
    Request,
    allowed_transitions,
    caller_sides,
    check_transition,
    comment_problems,
    derive,
    is_complete,
    is_overdue,
    joined,
    may_act,
    timeline,
)
from kizuna.coordination.rules import MESSAGES as CATALOG
from kizuna.core.catalog import Message
from kizuna.core.errors import Conflict, Forbidden, Invalid, NotFound
from kizuna.core.hlc import to_seconds
from kizuna.core.ids import new_id
from kizuna.core.label_view import label_fields
from kizuna.core.labels import Label
from kizuna.core.records import Event, Precedence, RecordState
from kizuna.core.release import may_release
from kizuna.core.text import original_language, text_problems
from kizuna.core.time import iso, parse_iso
from kizuna.kernel.access import filter_visible, get_visible, label_for_write
from kizuna.kernel.authority import (
    audit_relabel,
    authorize_relabel,
    bounded,
    child_label_for_write,
)
from kizuna.kernel.context import Caller, NodeContext
from kizuna.store.base import Draft

log = structlog.get_logger("kizuna.coordination")

REQUEST_TOPIC = "request"
OVERDUE_TOPIC = "overdue"


# -- views --------------------------------------------------------------------


def _time(seconds: float | None) -> str | None:
    return None if seconds is None else iso(seconds)


def _entry_view(entry: Entry) -> dict[str, Any]:
    return {"id": entry.id, "node": entry.node, "at": iso(to_seconds(entry.hlc))}


def request_summary(state: RecordState, now: float | None = None) -> dict[str, Any]:
    """The parts of a request every reader of its label may see (no comments,
    attachments, timeline or per-caller transitions), in the shape of
    :class:`RequestSummaryOut`."""
    r = derive(state)
    now = time.time() if now is None else now
    return {
        "id": r.id,
        "requester": r.requester,
        "addressees": r.addressees,
        "kind": r.kind,
        "precedence": state.precedence.name,
        "status": r.status.value,
        "due": _time(r.due),
        "overdue": is_overdue(r, now),
        "title": r.title,
        "body": r.body,
        "original_language": r.original_language,
        "links": r.links,
        "response": r.response,
        "decline_reason": r.decline_reason,
        **label_fields(state.label),
        "created_at": iso(to_seconds(state.created_hlc)),
        "updated_at": iso(to_seconds(state.updated_hlc)),
        "created_by": state.created_by,
        "updated_by": state.updated_by,
    }


# -- service ------------------------------------------------------------------


def _due(text: str) -> float:
    try:
        return parse_iso(text)
    except (ValueError, TypeError):
        raise Invalid(CATALOG.msg("error.bad-due", text=text)) from None


def _links(links: list[Link]) -> list[dict[str, str]]:
    unique = dict.fromkeys((link.type, link.id) for link in links)
    return [{"type": t, "id": i} for t, i in unique]


def _decode(attachment: AttachmentIn) -> bytes:
    if len(attachment.content) > (MAX_ATTACHMENT_BYTES // 3 + 1) * 4:
        raise Invalid(CATALOG.msg("error.attachment-too-large", name=attachment.name))
    try:
        content = base64.b64decode(attachment.content, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(CATALOG.msg("error.attachment-base64", name=attachment.name)) from None
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise Invalid(CATALOG.msg("error.attachment-too-large", name=attachment.name))
    return content


def _content(r: Request) -> dict[str, Any]:
    """A request's content as the requester's create sets it."""
    return {
        "addressees": list(r.addressees),
        "kind": r.kind,
        "title": r.title,
        "body": r.body,
        "original_language": r.original_language,
        "links": list(r.links),
        "due": r.due,
        "due_auto": r.due_auto,
    }


class RequestService:
    """The coordination domain on one node: started with the plugin's :class:`NodeContext`."""

    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        self._wakers: list[Callable[[], None]] = []  # running overdue watches
        ctx.events.on_commit(self._committed)

    # change feed
    def _committed(self, events: Sequence[Event]) -> None:
        """After each commit (local or federated, on the committing thread): publish
        every changed complete request and wake the overdue watches. Must not block."""
        ids = dict.fromkeys(e.record_id for e in events if e.record_type == REQUEST)
        if not ids:
            return
        publish = self.ctx.bus.subscribers > 0
        wakers = list(self._wakers)
        if not publish and not wakers:
            return
        changed = False
        for rid in ids:
            state = self.ctx.events.get(REQUEST, rid)
            if state is None or not is_complete(state):
                continue
            changed = True
            if publish:
                try:
                    self.ctx.bus.publish(REQUEST_TOPIC, request_summary(state), state.label)
                except Exception:
                    log.exception("request push failed", record_id=rid)
        if changed:
            for wake in wakers:
                try:
                    wake()
                except Exception:
                    log.exception("overdue watch wake-up failed")

    async def watch_overdue(self, interval: float = 30.0) -> None:
        """Publish ``overdue`` with :func:`request_summary` once per request (and due
        time) when an open request passes its due time; the bus releases it only to
        sessions that may see the request's label. Runs until cancelled."""
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def waker() -> None:
            loop.call_soon_threadsafe(wake.set)

        self._wakers.append(waker)
        notified: set[tuple[str, float]] = set()
        try:
            while True:
                wake.clear()
                now = time.time()
                next_due = math.inf
                for state in self.ctx.events.scan(REQUEST):
                    if not is_complete(state):
                        continue
                    request = derive(state)
                    if request.status in TERMINAL or request.due is None:
                        continue
                    if not is_overdue(request, now):
                        next_due = min(next_due, request.due)
                        continue
                    key = (state.record_id, request.due)
                    if key in notified:
                        continue
                    notified.add(key)
                    try:
                        self.ctx.bus.publish(
                            OVERDUE_TOPIC, request_summary(state, now), state.label
                        )
                    except Exception:
                        log.exception("overdue push failed", record_id=state.record_id)
                timeout = min(interval, max(0.0, next_due - now) + 0.05)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout)
        finally:
            with contextlib.suppress(ValueError):
                self._wakers.remove(waker)

    # views
    def view(self, caller: Caller, state: RecordState, now: float | None = None) -> RequestOut:
        """The full record as this caller may see it: comments, attachments and
        timeline entries whose own label the caller may not see are left out."""
        r = derive(state)
        who = caller.principal
        view = request_summary(state, now)
        view["attachments"] = [
            {
                **_entry_view(a),
                "name": a.data["name"],
                "media_type": a.data["media_type"],
                "size": len(a.data["content"]),
                "author": a.author,
                **label_fields(label),
            }
            for a, label in self._children(state, r.attachments)
            if may_release(label, who)
        ]
        view["comments"] = [
            {**_entry_view(c), "author": c.author, "text": c.data["text"], **label_fields(label)}
            for c, label in self._children(state, r.comments)
            if may_release(label, who)
        ]
        view["timeline"] = [
            {
                "at": iso(to_seconds(c.hlc)),
                "actor": c.actor,
                "node": c.node,
                "action": c.action,
                "from": c.from_,
                "to": c.to,
                "reason": c.reason,
            }
            for c in timeline(self.ctx.events.record_events(REQUEST, state.record_id))
            if may_release(c.label, who)
        ]
        view["allowed_transitions"] = self._allowed(caller, r)
        return msgspec.convert(view, RequestOut)

    def _children(self, state: RecordState, entries: list[Entry]) -> list[tuple[Entry, Label]]:
        """Comments or attachments with their effective labels: each bounded by the request's
        label as it is now (a peer's child may be labelled wider, the request may have
        narrowed since the child was written)."""
        return [(e, bounded(e.label, state.label, self.ctx.groups)) for e in entries]

    def _allowed(self, caller: Caller, r: Request) -> list[str]:
        sides = caller_sides(self.ctx.node_id, r.requester, r.addressees)
        return allowed_transitions(r.status, sides, caller.user.roles)

    def summaries(self, now: float | None = None) -> list[dict[str, Any]]:
        """Every complete request this node holds, unfiltered: the operator's view of
        the node's own database (``kizuna request list``), never an API answer."""
        now = time.time() if now is None else now
        return [request_summary(s, now) for s in self.ctx.events.scan(REQUEST) if is_complete(s)]

    # reads
    def _open(self, caller: Caller, rid: str) -> tuple[RecordState, Request, frozenset[str]]:
        """A request the caller may see, derived, and the sides the caller stands on."""
        state = self.get(caller, rid)
        r = derive(state)
        return state, r, caller_sides(self.ctx.node_id, r.requester, r.addressees)

    def get(self, caller: Caller, rid: str) -> RecordState:
        state = get_visible(self.ctx, caller, REQUEST, rid)
        if not is_complete(state):
            raise NotFound(CATALOG.msg("error.request-not-found", id=rid))
        return state

    def list(
        self,
        caller: Caller,
        *,
        status: str | None = None,
        addressee: str | None = None,
        overdue: bool | None = None,
    ) -> list[RecordState]:
        now = time.time()
        out = []
        for state in filter_visible(self.ctx, caller, self.ctx.events.scan(REQUEST)):
            if not is_complete(state):
                continue
            r = derive(state)
            if status is not None and r.status.value != status:
                continue
            if addressee is not None and addressee not in r.addressees:
                continue
            if overdue is not None and is_overdue(r, now) != overdue:
                continue
            out.append(state)
        return out

    def attachment(self, caller: Caller, rid: str, aid: str) -> tuple[Entry, bytes]:
        state = self.get(caller, rid)
        for a, label in self._children(state, derive(state).attachments):
            if a.id == aid and may_release(label, caller.principal):
                return a, bytes(a.data["content"])
        raise NotFound(CATALOG.msg("error.attachment-not-found", id=aid, request=rid))

    # writes
    def _commit(self, drafts: list[Draft], action: str, caller: Caller, **details: Any) -> None:
        self.ctx.events.append(drafts)
        self.ctx.audit.append(f"request.{action}", caller.name, "ok", **details)

    def _refused(self, caller: Caller, action: str, rid: str, exc: Exception) -> None:
        self.ctx.audit.append(f"request.{action}", caller.name, "refused", id=rid, reason=str(exc))

    def create(self, caller: Caller, data: RequestIn) -> RecordState:
        if not may_act(caller.user.roles, REQUESTER):
            raise Forbidden(CATALOG.msg("error.roles-request"))
        problems: list[str | Message] = [*text_problems(data.title, data.body)]
        addressees = list(dict.fromkeys(data.addressees))
        if len(addressees) != len(data.addressees):
            problems.append(CATALOG.msg("error.addressees-repeated"))
        if problems:
            raise Invalid(joined(problems), errors=[str(p) for p in problems])
        label = label_for_write(self.ctx, caller, data.label)
        precedence = Precedence[data.precedence]
        # An attachment never travels further than its request: its stored label is bounded.
        files = [
            (a, child_label_for_write(self.ctx, caller, a.label, label), _decode(a))
            for a in data.attachments
        ]
        now = time.time()
        rid = new_id()
        sets: dict[str, Any] = {
            "addressees": addressees,
            "kind": data.kind,
            "title": msgspec.to_builtins(data.title),
            "body": msgspec.to_builtins(data.body),
            "original_language": original_language(data.title),
            "links": _links(data.links),
            "due": _due(data.due) if data.due else now + precedence.handling_seconds,
            "due_auto": data.due is None,
        }
        drafts = [
            Draft(
                REQUEST,
                rid,
                "create",
                label,
                {"action": "create", "set": sets},
                precedence=precedence,
                author=caller.name,
                new_record=True,
            )
        ]
        for a, a_label, content in files:
            payload = {
                "action": "attach",
                "id": new_id(),
                "name": a.name,
                "media_type": a.media_type.lower(),
                "content": content,
            }
            drafts.append(
                Draft(
                    REQUEST,
                    rid,
                    "patch",
                    a_label,
                    payload,
                    precedence=precedence,
                    author=caller.name,
                )
            )
        self._commit(
            drafts,
            "create",
            caller,
            id=rid,
            label=label.render(),
            addressees=addressees,
            attachments=len(files),
        )
        return self._fresh(rid)

    def edit(self, caller: Caller, rid: str, patch: RequestPatch) -> RecordState:
        state, r, sides = self._open(caller, rid)
        if REQUESTER not in sides or not may_act(caller.user.roles, REQUESTER):
            raise Forbidden(CATALOG.msg("error.requester-only", node=r.requester))
        if r.status in TERMINAL:
            raise Conflict(CATALOG.msg("error.request-final", status=r.status.value))
        problems = text_problems(patch.title, patch.body)
        if problems:
            raise Invalid(joined(problems), errors=[str(p) for p in problems])
        label = label_for_write(self.ctx, caller, patch.label) if patch.label else state.label
        decision = authorize_relabel(
            self.ctx, caller, REQUEST, rid, state.origin, state.label, label
        )
        precedence = Precedence[patch.precedence] if patch.precedence else state.precedence
        sets: dict[str, Any] = {}
        payload: dict[str, Any] = {"action": "edit", "set": sets}
        if decision.widened:
            # Peers the old label kept out never had the request: the edit carries all of
            # its content, not only the change, and says so ("whole").
            # With the create's envelope and the status, so it is whole there too.
            sets.update(_content(r))
            payload["whole"] = True
            payload["create"] = state.fields.get("create")
            if "status" in state.fields:
                payload["status"] = state.fields["status"]
        for key in ("title", "body"):
            value = getattr(patch, key)
            if value is not None:
                sets[key] = msgspec.to_builtins(value)
        if patch.title is not None:
            sets["original_language"] = r.original_language
        if patch.links is not None:
            sets["links"] = _links(patch.links)
        if patch.due is not None:
            sets.update(due=_due(patch.due), due_auto=False)
        elif r.due_auto and precedence != state.precedence:
            start = r.due - state.precedence.handling_seconds if r.due else time.time()
            sets["due"] = start + precedence.handling_seconds
        self._commit(
            [
                Draft(
                    REQUEST,
                    rid,
                    "patch",
                    label,
                    payload,
                    precedence=precedence,
                    author=caller.name,
                )
            ],
            "edit",
            caller,
            id=rid,
            label=label.render(),
            fields=sorted(sets),
        )
        audit_relabel(self.ctx, caller, REQUEST, rid, decision)
        return self._fresh(rid)

    def transition(self, caller: Caller, rid: str, data: TransitionIn) -> RecordState:
        state, r, sides = self._open(caller, rid)
        try:
            to = check_transition(r.status, data.to, sides, caller.user.roles, data.reason)
            if data.response is not None and ADDRESSEE not in sides:
                raise Forbidden(
                    CATALOG.msg("error.addressee-response"),
                    allowed_transitions=self._allowed(caller, r),
                )
        except (Invalid, Conflict, Forbidden) as exc:
            self._refused(caller, "transition", rid, exc)
            raise
        sets: dict[str, Any] = {}
        if to is Status.SUBMITTED and r.due_auto:
            sets["due"] = time.time() + state.precedence.handling_seconds
        if to is Status.DECLINED:
            sets["decline_reason"] = data.reason.strip()
        if data.response is not None:
            sets["response"] = msgspec.to_builtins(data.response)
        payload = {
            "action": "transition",
            "from": r.status.value,
            "to": to.value,
            "reason": data.reason.strip(),
            "set": sets,
        }
        self._commit(
            [
                Draft(
                    REQUEST,
                    rid,
                    "patch",
                    state.label,
                    payload,
                    precedence=state.precedence,
                    author=caller.name,
                )
            ],
            "transition",
            caller,
            id=rid,
            frm=r.status.value,
            to=to.value,
        )
        return self._fresh(rid)

    def comment(self, caller: Caller, rid: str, data: CommentIn) -> RecordState:
        state, _, sides = self._open(caller, rid)
        if not any(may_act(caller.user.roles, side) for side in sides):
            raise Forbidden(CATALOG.msg("error.comment-sides"))
        problems = comment_problems(data.text)
        if problems:
            raise Invalid(joined(problems), errors=[str(p) for p in problems])
        # A comment never travels further than its request: it carries the stricter of the two.
        label = child_label_for_write(self.ctx, caller, data.label, state.label)
        cid = new_id()
        payload = {"action": "comment", "id": cid, "text": msgspec.to_builtins(data.text)}
        self._commit(
            [
                Draft(
                    REQUEST,
                    rid,
                    "patch",
                    label,
                    payload,
                    precedence=state.precedence,
                    author=caller.name,
                )
            ],
            "comment",
            caller,
            id=rid,
            comment=cid,
            label=label.render(),
        )
        return self._fresh(rid)

    def _fresh(self, rid: str) -> RecordState:
        state = self.ctx.events.get(REQUEST, rid)
        assert state is not None
        return state


__all__ = ["OVERDUE_TOPIC", "REQUEST_TOPIC", "RequestService", "request_summary"]
