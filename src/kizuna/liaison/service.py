"""The liaison workspace: the shared log, glossary-backed terms and today's desk.

The log's entries (``liaison_entry``) are their author's node's (generic merge, the
default ``origin_owns`` rule), each attributed to its author and node. Today's desk asks
the coordination, assistance, workgroups and exercises services for the caller's
released open items (their own release checks), keeps those that involve both chains
(the nations of their parties include the United States and Japan) and checks each
item's label against the caller once more before it is answered.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgspec
import structlog

from kizuna.core.errors import Forbidden, Invalid
from kizuna.core.hlc import to_seconds
from kizuna.core.ids import new_id
from kizuna.core.label_view import label_fields
from kizuna.core.labels import LabelError, parse_label
from kizuna.core.records import Precedence, RecordState
from kizuna.core.release import may_release
from kizuna.core.time import iso
from kizuna.kernel.access import filter_visible, get_visible, label_for_write
from kizuna.kernel.context import Caller, NodeContext
from kizuna.liaison.glossary import Term, load_glossary, search
from kizuna.liaison.messages import MESSAGES
from kizuna.liaison.models import (
    LIAISON_ENTRY,
    MAX_TEXT,
    LiaisonEntryIn,
    LiaisonEntryOut,
    TermOut,
    TodayItem,
    TodayOut,
)
from kizuna.store.base import Draft

log = structlog.get_logger("kizuna.liaison")
ENV = "KIZUNA_GLOSSARY"  # read when the settings name no file
CHAINS = frozenset({"USA", "JPN"})
# Closed (or not yet sent) states of the records the desk lists.
_CLOSED_REQUEST = frozenset({"DRAFT", "DECLINED", "CANCELLED", "COMPLETED"})
_CLOSED_RFA = frozenset({"DRAFT", "COMPLETED", "DECLINED", "CANCELLED", "SUPERSEDED"})
_CLOSED_INJECT = frozenset({"DRAFT", "EXPIRED", "FAILED", "COMPLETED"})
ROLES = frozenset({"liaison", "watch", "admin"})


def _dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    data = msgspec.to_builtins(value)
    return data if isinstance(data, dict) else {}


def _text(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {"en": str(value.get("en", "")), "ja": str(value.get("ja", ""))}
    if isinstance(value, str):
        return {"en": value, "ja": ""}
    return {"en": "", "ja": ""}


class LiaisonService:
    """The liaison domain on one node, started with the plugin's :class:`NodeContext`."""

    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        self.clock: Callable[[], float] = time.time
        self._terms: list[Term] | None = None

    # -- glossary ----------------------------------------------------------------------

    @property
    def glossary_path(self) -> Path | None:
        configured = getattr(self.ctx.settings, "glossary", "") or os.environ.get(ENV, "")
        if not configured:
            return None
        path = Path(configured)
        return path if path.is_absolute() else self.ctx.root / path

    def glossary(self) -> list[Term]:
        if self._terms is None:
            self._terms = load_glossary(self.glossary_path)
        return self._terms

    def terms(self, query: str) -> list[TermOut]:
        """Glossary terms in (or, for a short query, matching) ``query``, in either
        language, each with the other language's term and the glossary's status."""
        return [
            TermOut(
                en=h.term.en,
                ja=h.term.ja,
                status=h.term.status,
                official=h.term.status.startswith("official"),
                matched="en" if h.matched == "en" else "ja",
                other=h.term.ja if h.matched == "en" else h.term.en,
            )
            for h in search(self.glossary(), query)
        ]

    # -- the log -----------------------------------------------------------------------

    def _entry_view(self, state: RecordState) -> LiaisonEntryOut:
        f = state.fields
        view = {
            **label_fields(state.label),
            "id": state.record_id,
            "origin": state.origin,
            "author": state.created_by,
            "kind": str(f.get("kind", "note")),
            "text": _text(f.get("text")),
            "original_language": str(f.get("original_language", "en")),
            "at": iso(to_seconds(state.created_hlc)),
        }
        return msgspec.convert(view, LiaisonEntryOut)

    def entries(self, caller: Caller) -> list[LiaisonEntryOut]:
        """The log as the caller may see it, newest first."""
        states = filter_visible(self.ctx, caller, self.ctx.events.scan(LIAISON_ENTRY))
        out = [self._entry_view(s) for s in states]
        return sorted(out, key=lambda e: (e.at, e.id), reverse=True)

    def entry(self, caller: Caller, eid: str) -> LiaisonEntryOut:
        return self._entry_view(get_visible(self.ctx, caller, LIAISON_ENTRY, eid))

    def create_entry(self, caller: Caller, data: LiaisonEntryIn) -> LiaisonEntryOut:
        held = set(caller.user.roles)
        if held and not held & ROLES:
            raise Forbidden(MESSAGES.msg("error.may-not-write"))
        problems = []
        if not (data.text.en.strip() or data.text.ja.strip()):
            problems.append(MESSAGES.msg("error.no-text"))
        if max(len(data.text.en), len(data.text.ja)) > MAX_TEXT:
            problems.append(MESSAGES.msg("error.too-long", max=MAX_TEXT))
        if problems:
            detail = MESSAGES.msg(
                "error.problems",
                problems="; ".join(p.render("en") for p in problems),
                problems_ja="; ".join(p.render("ja") for p in problems),
            )
            raise Invalid(detail, errors=[str(p) for p in problems])
        label = label_for_write(self.ctx, caller, data.label)
        payload = {
            "text": msgspec.to_builtins(data.text),
            "original_language": data.original_language,
            "kind": data.kind,
        }
        eid = new_id()
        draft = Draft(
            LIAISON_ENTRY,
            eid,
            "create",
            label,
            payload,
            precedence=Precedence.ROUTINE,
            author=caller.name,
            new_record=True,
        )
        self.ctx.events.append([draft])
        self.ctx.audit.append("liaison_entry.create", caller.name, "ok", id=eid)
        return self.entry(caller, eid)

    # -- today's desk ------------------------------------------------------------------

    def _service(self, name: str) -> Any:
        try:
            return self.ctx.require(name)
        except LookupError:
            return None

    def _released(self, caller: Caller, item: dict[str, Any]) -> bool:
        """The release check, again, on an item another domain answered."""
        try:
            label = parse_label(
                str(item["label_fgi"]),
                originator=str(item.get("originator") or self.ctx.nation),
                groups=self.ctx.groups,
            )
        except (KeyError, LabelError):
            return False
        return may_release(label, caller.principal)

    def _item(
        self,
        kind: str,
        data: dict[str, Any],
        title: Any,
        status: str,
        due: Any,
        nations: Iterable[str],
    ) -> TodayItem:
        view = {
            **{k: data[k] for k in ("label", "label_fgi", "label_ja", "classification")},
            **{k: data[k] for k in ("rel_to", "noforn", "exercise", "originator")},
            "kind": kind,
            "id": str(data["id"]),
            "origin": str(data.get("origin") or data.get("requester") or ""),
            "title": _text(title),
            "status": status,
            "due": str(due) if due else None,
            "nations": sorted(set(nations)),
        }
        return msgspec.convert(view, TodayItem)

    def today(self, caller: Caller) -> TodayOut:
        """Today's open coordination requests, RFAs, action items and active injects that
        involve both chains, as the caller may see them."""
        nations = {self.ctx.node_id: self.ctx.nation}
        requests = self._requests(caller)
        rfas, offers = self._rfas(caller)
        items = self._action_items(caller)
        for r in requests:
            nations.setdefault(str(r["requester"]), str(r["originator"]))
        for r in rfas:
            nations.setdefault(str(r["affected_node"]), str(r["affected_state"]))
        for o in offers:
            nations.setdefault(str(o["origin"]), str(o.get("nation") or o["originator"]))
        for i in items:
            for key in ("opr", "ocr", "chair"):
                p = i.get(key)
                if isinstance(p, dict):
                    nations.setdefault(str(p["node"]), str(p["nation"]))
        out: dict[str, list[TodayItem]] = {"requests": [], "rfas": [], "action_items": []}
        for r in requests:
            involved = {str(r["originator"])} | {
                nations[a] for a in r["addressees"] if a in nations
            }
            out["requests"].append(
                self._item("request", r, r["title"], r["status"], r.get("due"), involved)
            )
        by_rfa: dict[str, set[str]] = {}
        for o in offers:
            for rid in (o.get("rfa_id"), o.get("accepted_for")):
                if rid:
                    by_rfa.setdefault(str(rid), set()).add(str(o.get("nation") or ""))
        for r in rfas:
            involved = {str(r["affected_state"]), str(r["originator"])} | by_rfa.get(r["id"], set())
            out["rfas"].append(
                self._item("rfa", r, r["title"], r["status"], r.get("needed_by"), involved)
            )
        for i in items:
            out["action_items"].append(
                self._item("action_item", i, i["title"], i["status"], i.get("due"), i["nations"])
            )
        injects = [
            self._item(
                "inject", d, d.get("description"), str(d.get("state", "")), d.get("due_at"), n
            )
            for d, n in self._injects(caller, nations)
        ]
        lists = {k: [x for x in v if set(x.nations) >= CHAINS] for k, v in out.items()}
        for v in lists.values():
            v.sort(key=lambda x: (x.due is None, x.due or "", x.id))
        return TodayOut(
            date=iso(self.clock())[:10],
            requests=lists["requests"],
            rfas=lists["rfas"],
            action_items=lists["action_items"],
            injects=[x for x in injects if set(x.nations) >= CHAINS],
        )

    def _requests(self, caller: Caller) -> list[dict[str, Any]]:
        svc = self._service("coordination")
        if svc is None:
            return []
        out = []
        for state in svc.list(caller):
            r = _dict(svc.view(caller, state))
            if r.get("status") not in _CLOSED_REQUEST and self._released(caller, r):
                out.append(r)
        return out

    def _rfas(self, caller: Caller) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        svc = self._service("assistance")
        if svc is None:
            return [], []
        rfas = [
            r
            for r in map(_dict, svc.rfas(caller))
            if r.get("status") not in _CLOSED_RFA and self._released(caller, r)
        ]
        offers = [o for o in map(_dict, svc.offers(caller)) if self._released(caller, o)]
        return rfas, offers

    def _action_items(self, caller: Caller) -> list[dict[str, Any]]:
        svc = self._service("workgroups")
        if svc is None:
            return []
        items = map(_dict, svc.action_items(caller, open_only=True))
        return [i for i in items if self._released(caller, i)]

    def _injects(
        self, caller: Caller, nations: dict[str, str]
    ) -> list[tuple[dict[str, Any], set[str]]]:
        """Active injects (the exercises service's ``active_injects``) with the nations of
        their sending and receiving organisations, the controlling and receiving nodes."""
        svc = self._service("exercises")
        active = getattr(svc, "active_injects", None)
        if active is None:
            return []
        out = []
        for inject in active(caller):
            d = _dict(inject)
            if "label_fgi" not in d or str(d.get("state", "")) in _CLOSED_INJECT:
                continue
            if not self._released(caller, d):
                continue
            involved = {_org_nation(d.get("from_org")), _org_nation(d.get("to_org"))}
            for key in ("origin", "to_node"):
                node = d.get(key)
                if isinstance(node, str) and node in nations:
                    involved.add(nations[node])
            out.append((d, {n for n in involved if n}))
        return out


_ORG_NATIONS = {
    "USA": ("USA", "US ", "USFJ", "INDOPACOM", "U.S.", "米"),
    "JPN": ("JPN", "JSDF", "JJOC", "JGSDF", "JMSDF", "JASDF", "自衛隊", "統合作戦", "日本"),
}


def _org_nation(org: Any) -> str:
    """The nation an inject's organisation belongs to: a nation field, else its name."""
    if isinstance(org, dict):
        if isinstance(org.get("nation"), str):
            return str(org["nation"])
        org = " ".join(str(v) for v in org.values())
    text = f"{org} " if isinstance(org, str) else ""
    for nation, marks in _ORG_NATIONS.items():
        if any(m in text for m in marks):
            return nation
    return ""
