"""The liaison workspace in process: glossary terms, the shared log, today's desk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from kizuna.assistance import plugin as assistance
from kizuna.assistance.models import RfaTransitionIn
from kizuna.coordination import plugin as coordination
from kizuna.coordination.models import RequestIn, TransitionIn
from kizuna.core.errors import BadLabel, Forbidden, Invalid, NotFound
from kizuna.core.label_view import LabelView, label_fields
from kizuna.core.labels import parse_label
from kizuna.core.records import Text
from kizuna.kernel.context import Caller, NodeContext
from kizuna.kernel.testing import memory_context
from kizuna.liaison import LiaisonSettings
from kizuna.liaison import plugin as liaison
from kizuna.liaison.models import LiaisonEntryIn
from kizuna.liaison.service import LiaisonService
from kizuna.node.users import make_user, principal_of
from kizuna.workgroups import WorkgroupsSettings
from kizuna.workgroups import plugin as workgroups
from kizuna.workgroups.models import GroupMember, Office
from tests.assistance.nodes import water_rfa
from tests.workgroups.nodes import OCR_US, OPR_JP, item

GLOSSARY = "reference/glossary.csv"
BOTH = "S//REL TO USA, JPN"


class Inject(msgspec.Struct, kw_only=True):
    """The fields of the exercises service's InjectOut the desk reads (a stand-in: the
    real service needs the access, picture and reports domains running beside it)."""

    id: str
    exercise_id: str
    seq: int
    due_at: str
    from_org: str
    to_org: str
    to_node: str | None
    description: Text
    state: str
    origin: str
    label: str
    label_fgi: str
    label_ja: str
    classification: str
    rel_to: list[str]
    noforn: bool
    exercise: bool
    originator: str


class Exercises:
    def __init__(self, label: str) -> None:
        self.fields = label_fields(parse_label(label, originator="USA"))

    def active_injects(self, caller: Caller) -> list[Inject]:
        def one(i: int, to: str, node: str, state: str = "APPROVED") -> Inject:
            text = Text(en=f"Inject {i}", ja=f"状況付与 {i}")
            return Inject(id=f"inj-{i}", exercise_id="ks26", seq=i, due_at="2033-05-01T00:00:00Z",
                          from_org="EXCON", to_org=to, to_node=node, description=text,
                          state=state, origin="usfj", **self.fields)  # fmt: skip

        return [one(1, "J3", "jjoc"), one(2, "J5", "usfj"), one(3, "J3", "jjoc", "COMPLETED")]


class Desk:
    def __init__(self, root: Path, glossary: Path) -> None:
        for name in ("coordination", "assistance", "workgroups", "liaison"):
            (root / name).mkdir()
        base = memory_context("usfj", "USA", root=root)
        self.backend = base.backend
        for plugin in (coordination, assistance, workgroups, liaison):
            for rt in plugin.record_types():
                base.events.register_merge(rt.name, rt.merge)

        def ctx(name: str, settings: Any = None, **services: Any) -> NodeContext:
            return memory_context("usfj", "USA", root=root / name, backend=self.backend,
                                  settings=settings, services=services, name=name)  # fmt: skip

        self.coordination = coordination.start(ctx("coordination"))
        self.assistance = assistance.start(ctx("assistance"))
        self.workgroups = workgroups.start(ctx("workgroups", WorkgroupsSettings()))
        services = {"coordination": self.coordination, "assistance": self.assistance,
                    "workgroups": self.workgroups, "exercises": Exercises(BOTH)}  # fmt: skip
        self.liaison: LiaisonService = liaison.start(
            ctx("liaison", LiaisonSettings(glossary=str(glossary)), **services)
        )
        self.groups = base.groups

    def user(self, name: str, nation: str = "USA", *roles: str) -> Caller:
        user, _ = make_user(name, nation, "SECRET", [], list(roles), self.groups)
        return Caller(user, principal_of(user, self.groups))


@pytest.fixture
def desk(tmp_path: Path, shared_data: Path) -> Iterator[Desk]:
    d = Desk(tmp_path, shared_data / GLOSSARY)
    yield d
    d.backend.close()


def test_terms_from_the_glossary_in_either_language(desk: Desk) -> None:
    svc = desk.liaison
    [acg] = svc.terms("Agenda for the Alliance Coordination Group tomorrow")
    assert (acg.matched, acg.other, acg.status, acg.official) == (
        "en",
        "同盟調整グループ",
        "official",
        True,
    )
    found = {t.en: t.other for t in svc.terms("明日の同盟調整グループで対応事項を確認")}
    assert found == {"Alliance Coordination Group": "Alliance Coordination Group",
                     "Action item": "Action item"}  # fmt: skip
    oce = svc.terms("office of primary responsibility")[0]
    assert (oce.ja, oce.status, oce.official) == ("主担当部署", "proposed", False)
    # Typing part of a term: the terms it is part of, those starting with it first.
    assert svc.terms("Alliance Coord")[0].other == "同盟調整グループ"
    assert svc.terms("") == [] and svc.terms("zzzz") == []


def test_the_shared_log_is_attributed_and_released(desk: Desk) -> None:
    svc, us, jp = desk.liaison, desk.user("us.liaison"), desk.user("jp.liaison", "JPN")
    text = Text(
        en="Called JJOC J3 about the ACG", ja="同盟調整グループについて統合作戦司令部J3に連絡"
    )
    shared = svc.create_entry(jp, LiaisonEntryIn(text=text, original_language="ja", label="U"))
    own = svc.create_entry(us, LiaisonEntryIn(text=Text(en="US only"), label="S//NOFORN"))
    assert (shared.author, shared.origin, shared.text.ja, shared.label) == (
        "jp.liaison", "usfj", text.ja, "UNCLASSIFIED"
    )  # fmt: skip
    assert [e.id for e in svc.entries(jp)] == [shared.id]
    assert {e.id for e in svc.entries(us)} == {shared.id, own.id}
    with pytest.raises(NotFound):
        svc.entry(jp, own.id)
    with pytest.raises(Invalid):
        svc.create_entry(us, LiaisonEntryIn(text=Text(en="  "), label="U"))
    with pytest.raises(BadLabel):
        svc.create_entry(us, LiaisonEntryIn(text=Text(en="x"), label="NOT A LABEL"))
    with pytest.raises(Forbidden):
        svc.create_entry(
            desk.user("viewer", "USA", "viewer"), LiaisonEntryIn(text=Text(en="x"), label="U")
        )
    assert len(svc.entries(us)) == 2  # nothing half-applied


def test_today_lists_open_items_of_both_chains_the_caller_may_see(desk: Desk) -> None:
    us, jp = desk.user("us.liaison"), desk.user("jp.liaison", "JPN")

    def request(to: str, label: str, submit: bool = True) -> str:
        body = RequestIn(addressees=[to], kind="support", label=label,
                         title=Text(en=f"To {to}", ja=f"{to}へ"))  # fmt: skip
        rid = desk.coordination.create(us, body).record_id
        if submit:
            desk.coordination.transition(us, rid, TransitionIn(to="SUBMITTED"))
        return rid

    bilateral = request("jjoc", BOTH)
    request("jjoc", BOTH, submit=False)  # a draft: not sent yet
    request("aus", "U")  # Australia only
    noforn = request("jjoc", "S//NOFORN")
    rfa = desk.assistance.create_rfa(
        us, water_rfa(BOTH, affected_state="JPN", affected_node="jjoc")
    )
    desk.assistance.transition_rfa(us, rfa.id, RfaTransitionIn(to="SUBMITTED"))
    open_item = desk.workgroups.create_action_item(
        us, item(chair=GroupMember(user="c", node="usfj", nation="USA"))
    )
    done = desk.workgroups.create_action_item(
        us, item(chair=GroupMember(user="c", node="usfj", nation="USA"))
    )
    us_only = Office(office="J4", node="usfj", nation="USA")
    desk.workgroups.create_action_item(
        us, item(opr=us_only, ocr=us_only, chair=GroupMember(user="c", node="usfj", nation="USA"))
    )
    # Move one item to DONE as its OPR would (JJOC): here via the OPR side's write.
    state = desk.workgroups.ctx.events.get("action_item", done.id)
    assert state is not None and OPR_JP.node == "jjoc" and OCR_US.node == "usfj"
    desk.workgroups.ctx.events.apply(
        [_peer_event(state, {"action": "transition", "from": "OPEN", "to": "DONE"})]
    )
    assert desk.workgroups.action_item(us, done.id).status == "DONE"

    today = desk.liaison.today(us)
    assert [r.id for r in today.requests] == sorted([bilateral, noforn])
    assert [(r.id, r.nations) for r in today.rfas] == [(rfa.id, ["JPN", "USA"])]
    assert [i.id for i in today.action_items] == [open_item.id]
    assert [(i.id, i.nations) for i in today.injects] == [("inj-1", ["JPN", "USA"])]
    assert today.action_items[0].title.ja == "演習日程の調整"
    # The Japanese liaison officer on USFJ sees the same desk but the NOFORN request.
    assert [r.id for r in desk.liaison.today(jp).requests] == [bilateral]
    assert all(isinstance(x, LabelView) for x in today.requests + today.injects)


def _peer_event(state: Any, payload: dict[str, Any]) -> Any:
    from kizuna.core.hlc import pack
    from kizuna.core.records import Event

    return Event(origin="jjoc", seq=1, hlc=pack(int(2e12), 0), record_type="action_item",
                 record_id=state.record_id, op="patch", label=state.label,
                 payload=payload, author="jp.ao")  # fmt: skip
