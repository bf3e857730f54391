"""The relief service on a memory node: records, release, ownership, bad input, the bus."""

from __future__ import annotations

import math
from typing import Any

import pytest

from kizuna.core.errors import Conflict, Forbidden, Invalid, NotFound
from kizuna.core.records import Event, Text
from kizuna.core.time import iso
from kizuna.relief import plugin
from kizuna.relief.models import (
    CapabilityIn,
    CapabilityPatch,
    NeedsIn,
    ReliefPlanIn,
    ReliefPlanPatch,
    ShelterPatch,
    StockIn,
    StockPatch,
    Where,
)
from kizuna.relief.rules import DAY
from tests.relief.support import caller, node, shelter_in

NOW = 1_750_000_000.0
REL_US_JP = "UNCLASSIFIED//REL TO USA, JPN"


def capability(label: str = "UNCLASSIFIED", **over: object) -> CapabilityIn:
    fields: dict[str, object] = {
        "label": label,
        "code": "water_production",
        "quantity": 120.0,
        "unit_name": "Water Purification Platoon, 1st Engineer Battalion",
        "military": True,
        "readiness_hours": 12.0,
        "caveats": Text(en="Needs a fresh-water source within 200 m"),
        **over,
    }
    return CapabilityIn(**fields)  # type: ignore[arg-type]


def test_a_shelter_round_trips_and_flags_population_above_capacity() -> None:
    ctx, svc = node()
    officer = caller(ctx, "sato", "JPN")
    made = svc.create_shelter(officer, shelter_in())
    assert made.origin == "jjoc" and made.name.ja == "輪島市立体育館"
    assert (made.capacity_day, made.population_night, made.availability) == (800, 580, "open")
    assert not made.over_capacity_night
    # more people arrive than it holds: accepted, and flagged
    crowded = svc.update_shelter(officer, made.id, ShelterPatch(population_night=640))
    assert crowded.population_night == 640 and crowded.over_capacity_night
    assert not crowded.over_capacity_day
    full = svc.update_shelter(officer, made.id, ShelterPatch(availability="full"))
    assert full.availability == "full" and full.availability_name.ja == "満員"
    assert [s.id for s in svc.shelters(officer)] == [made.id]
    assert svc.shelter(officer, made.id).population_night == 640
    assert svc.shelters(officer, incident_id="other") == []


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        ({"capacity_day": -1}, "capacity_day"),
        ({"population_night": -5}, "population_night"),
        ({"position": Where(lat=91.0, lon=136.0)}, "latitude"),
        ({"position": Where(lat=37.0, lon=181.0)}, "longitude"),
        ({"name": Text()}, "name"),
    ],
)
def test_bad_shelters_are_invalid_and_nothing_is_written(over: dict, needle: str) -> None:
    ctx, svc = node()
    with pytest.raises(Invalid, match=needle):
        svc.create_shelter(caller(ctx, "sato", "JPN"), shelter_in(**over))
    assert list(ctx.events.scan("shelter")) == []


def test_release_a_usa_jpn_record_is_not_visible_to_australia() -> None:
    ctx, svc = node()
    sato, aus = caller(ctx, "sato", "JPN"), caller(ctx, "smith", "AUS", "TOP_SECRET")
    hidden = svc.create_shelter(sato, shelter_in(REL_US_JP))
    shown = svc.create_shelter(sato, shelter_in("UNCLASSIFIED", name=Text(en="Open hall")))
    cap = svc.create_capability(sato, capability(REL_US_JP))
    stock = svc.create_stock(
        sato,
        StockIn(
            label=REL_US_JP,
            site_id="ishikawa-hub",
            site_name=Text(en="Ishikawa wide-area logistics hub", ja="石川県広域物資輸送拠点"),
            position=Where(lat=36.59, lon=136.63),
            item="water",
            packs=1000,
        ),
    )
    assert [s.id for s in svc.shelters(aus)] == [shown.id]
    assert svc.capabilities(aus) == [] and svc.stocks(aus) == []
    for get, rid in ((svc.shelter, hidden.id), (svc.capability, cap.id), (svc.stock, stock.id)):
        with pytest.raises(NotFound):
            get(aus, rid)
    us = caller(ctx, "jones", "USA")
    assert {s.id for s in svc.shelters(us)} == {hidden.id, shown.id}
    assert hidden.rel_to == ["USA", "JPN"]
    # matching only offers what the caller may see
    line = svc.needs(1000, 1)[0]
    assert svc.matches(aus, [line])[0].candidates == []
    assert [c.capability.id for c in svc.matches(us, [line])[0].candidates] == [cap.id]
    # and a shelter the caller may not see cannot be used for needs
    with pytest.raises(NotFound):
        svc.needs_for(aus, NeedsIn(days=3, shelter_id=hidden.id))


def test_a_peers_write_to_another_nodes_shelter_is_refused() -> None:
    jctx, jjoc = node("jjoc", "JPN")
    actx, aus = node("aus", "AUS")
    made = jjoc.create_shelter(caller(jctx, "sato", "JPN"), shelter_in())
    # AUS holds JJOC's shelter as federation delivers it
    actx.events.apply(jctx.events.record_events("shelter", made.id))
    held = actx.events.get("shelter", made.id)
    assert held is not None and held.origin == "jjoc"
    # on the AUS node, the service refuses to change it (sovereignty) ...
    with pytest.raises(Forbidden, match="jjoc"):
        aus.update_shelter(caller(actx, "smith", "AUS"), made.id, ShelterPatch(population_day=0))
    # ... and an AUS event changing it is refused at receipt by the record type's owner rule
    owner = {rt.name: rt.owner for rt in plugin.record_types()}
    state = jctx.events.get("shelter", made.id)
    assert state is not None
    peer = Event(
        origin="aus",
        seq=1,
        hlc=state.updated_hlc + 1,
        record_type="shelter",
        record_id=made.id,
        op="patch",
        label=state.label,
        payload={"population_day": 0},
    )
    assert owner["shelter"](state, peer) == "not_owner"
    claim = Event(**{**_fields(peer), "op": "create"})
    assert owner["shelter"](state, claim) == "not_owner"  # a second create claiming it
    own = Event(**{**_fields(peer), "origin": "jjoc", "seq": 99})
    assert owner["shelter"](state, own) is None


def _fields(event: Event) -> dict[str, object]:
    return {f: getattr(event, f) for f in event.__struct_fields__}


def test_capabilities_carry_nation_window_readiness_and_caveats() -> None:
    ctx, svc = node("usfj", "USA")
    jones = caller(ctx, "jones", "USA")
    made = svc.create_capability(
        jones,
        capability(
            code="helicopter",
            quantity=6,
            unit_name="HSC-12",
            available_from=iso(NOW),
            available_to=iso(NOW + 10 * DAY),
        ),
    )
    assert (made.nation, made.code, made.basis, made.unit) == ("USA", "helicopter", "count", "unit")
    assert made.name.ja == "ヘリコプター" and made.readiness_hours == 12.0
    assert made.available_from == iso(NOW)
    later = svc.update_capability(jones, made.id, CapabilityPatch(quantity=4, available_to=""))
    assert later.quantity == 4 and later.available_to is None
    with pytest.raises(Invalid, match="available_to"):
        svc.update_capability(jones, made.id, CapabilityPatch(available_to=iso(NOW - DAY)))
    for bad, needle in (
        ({"code": "submarine"}, "unknown capability"),
        ({"quantity": 0}, "quantity"),
        ({"readiness_hours": -1}, "readiness"),
        ({"unit_name": " "}, "unit_name"),
        ({"available_from": iso(NOW), "available_to": iso(NOW)}, "available_to"),
        ({"position": Where(lat=0, lon=200)}, "longitude"),
    ):
        with pytest.raises(Invalid, match=needle):
            svc.create_capability(jones, capability(**bad))
    assert [c.id for c in svc.capabilities(jones, code="helicopter")] == [made.id]
    assert svc.capabilities(jones, nation="JPN") == []


def test_matching_against_needs_lines() -> None:
    ctx, svc = node("usfj", "USA")
    jones = caller(ctx, "jones", "USA")
    plant = svc.create_capability(jones, capability(quantity=100, readiness_hours=0))
    late = svc.create_capability(
        jones, capability(quantity=500, readiness_hours=0, available_from=iso(NOW + 2 * DAY))
    )
    svc.create_capability(jones, capability(code="medical_bed", quantity=50, unit_name="Mercy"))
    lines = svc.needs(20_000, 3)
    got = svc.matches(jones, lines, start=NOW, days=3, now=NOW)
    water = got[0]
    assert (water.item, water.quantity) == ("water", 900_000.0)
    covers = {c.capability.id: c for c in water.candidates}
    assert set(covers) == {plant.id, late.id}
    assert math.isclose(covers[plant.id].covers, 300_000)  # 100 m³ × 3 days
    assert math.isclose(covers[late.id].covers, 500_000)  # 500 m³ on the last day
    assert covers[plant.id].whole_window and not covers[late.id].whole_window
    assert math.isclose(water.covered, 800_000) and math.isclose(water.gap, 100_000)
    assert [c.capability.id for c in water.candidates] == [late.id, plant.id]
    # food, toilets and space: nothing here fits
    assert all(m.candidates == [] and m.gap == m.quantity for m in got[1:])
    # lines given as dicts (assistance's LineIn shape) match the same
    raw = {
        "item": "medical_bed",
        "kind": "capability",
        "description": {"en": "beds"},
        "quantity": 20,
        "unit": "bed",
        "pack_size": None,
        "packs": None,
    }
    beds = svc.matches(jones, [raw], now=NOW)[0]
    assert beds.covered == 20 and beds.candidates[0].fraction == 1.0
    # an RFA's line as assistance answers it: what is left to cover is its gap
    rfa_line = {**raw, "quantity": None, "requested": 120, "gap": 70}
    assert svc.matches(jones, [rfa_line], now=NOW)[0].quantity == 70
    with pytest.raises(Invalid, match="line 0"):
        svc.matches(jones, [{"item": "water", "unit": "L"}], now=NOW)


def test_stocks_convert_packs_and_refuse_unknown_items() -> None:
    ctx, svc = node()
    sato = caller(ctx, "sato", "JPN")
    site: dict[str, Any] = {
        "label": "UNCLASSIFIED",
        "site_id": "ishikawa-hub",
        "site_name": Text(en="Ishikawa hub", ja="石川県広域物資輸送拠点"),
        "position": Where(lat=36.59, lon=136.63),
    }
    water = svc.create_stock(sato, StockIn(**site, item="water", packs=500))
    assert (water.quantity, water.unit, water.pack_size, water.packs) == (6_000.0, "L", 12.0, 500)
    assert water.item_name.ja == "水"
    blankets = svc.create_stock(sato, StockIn(**site, item="blanket", quantity=25))
    assert blankets.packs == 2.5  # two bales and a half
    with pytest.raises(Conflict):
        svc.create_stock(sato, StockIn(**site, item="water", quantity=1))
    for bad, needle in (
        ({"item": "sake", "quantity": 1}, "unknown relief item"),
        ({"item": "water", "quantity": -3}, "quantity"),
        ({"item": "water", "quantity": 1, "packs": 1}, "either"),
        ({"item": "toilet", "packs": 2}, "no pack size"),
    ):
        with pytest.raises(Invalid, match=needle):
            svc.create_stock(sato, StockIn(**{**site, "site_id": "other"}, **bad))
    less = svc.update_stock(sato, water.id, StockPatch(packs=100))
    assert less.quantity == 1_200.0
    assert svc.stock_totals(sato) == {"water": 1_200.0, "blanket": 25.0}
    assert [s.item for s in svc.stocks(sato, item="blanket")] == ["blanket"]


def test_push_then_pull_per_incident() -> None:
    ctx, svc = node()
    sato = caller(ctx, "sato", "JPN")
    assert svc.mode(sato, "noto-2024") == "push"
    plan = svc.create_plan(
        sato, ReliefPlanIn(label="UNCLASSIFIED", incident_id="noto-2024"), now=NOW
    )
    assert (plan.mode, plan.mode_name.ja, plan.by) == ("push", "プッシュ型支援", "sato")
    with pytest.raises(Conflict):
        svc.create_plan(sato, ReliefPlanIn(label="UNCLASSIFIED", incident_id="noto-2024"))
    with pytest.raises(Invalid, match="reason"):
        svc.update_plan(sato, "noto-2024", ReliefPlanPatch(mode="pull"), now=NOW + DAY)
    with pytest.raises(Conflict, match="already push"):
        svc.update_plan(sato, "noto-2024", ReliefPlanPatch(mode="push", reason=Text(en="x")))
    reason = Text(en="Shelters report needs through the request system", ja="避難所ニーズの把握")
    pulled = svc.update_plan(
        sato, "noto-2024", ReliefPlanPatch(mode="pull", reason=reason), now=NOW + 4 * DAY
    )
    assert pulled.mode == "pull" and pulled.switched_at == iso(NOW + 4 * DAY)
    assert [h.mode for h in pulled.history] == ["push", "pull"]
    assert pulled.history[-1].reason == reason
    assert svc.mode(sato, "noto-2024") == "pull"
    # the plan is the creating node's: a peer's copy cannot be switched there
    actx, aus = node("aus", "AUS")
    actx.events.apply(ctx.events.record_events("relief_plan", "noto-2024"))
    with pytest.raises(Forbidden):
        aus.update_plan(
            caller(actx, "smith", "AUS"), "noto-2024", ReliefPlanPatch(mode="push", reason=reason)
        )
    with pytest.raises(Conflict):
        aus.create_plan(
            caller(actx, "smith", "AUS"),
            ReliefPlanIn(label="UNCLASSIFIED", incident_id="noto-2024"),
        )


def test_needs_from_a_shelter_and_bad_needs() -> None:
    ctx, svc = node()
    sato = caller(ctx, "sato", "JPN")
    hall = svc.create_shelter(sato, shelter_in())
    got = svc.needs_for(sato, NeedsIn(days=2, shelter_id=hall.id))
    assert got.population == 580 and got.shelter_name and got.shelter_name.ja == "輪島市立体育館"
    assert got.lines[0].quantity == 580 * 2 * 15 + 0  # 17,400 L is exactly 1,450 cases
    for population, days in ((-1, 3), (100, 0), (100, -2), (100, 400), (100, math.inf)):
        with pytest.raises(Invalid):
            svc.needs(population, days)
    with pytest.raises(Invalid, match="population"):
        svc.needs_for(sato, NeedsIn(days=3))


def test_changes_are_pushed_on_the_bus_under_their_labels() -> None:
    ctx, svc = node()
    sato = caller(ctx, "sato", "JPN")
    hall = svc.create_shelter(sato, shelter_in(REL_US_JP))
    svc.update_shelter(sato, hall.id, ShelterPatch(population_day=400))
    svc.create_capability(sato, capability())
    svc.create_stock(
        sato,
        StockIn(
            label="UNCLASSIFIED",
            site_id="hub",
            site_name=Text(en="Hub"),
            position=Where(lat=36.0, lon=136.0),
            item="food",
            packs=10,
        ),
    )
    published = ctx.bus.published  # type: ignore[attr-defined]
    topics = [t for t, _, _ in published]
    assert topics == ["shelter", "shelter", "capability", "stock"]
    _, item, label = published[1]
    assert item["id"] == hall.id and item["population_day"] == 400
    assert label.render(fgi=False) == REL_US_JP
    assert published[3][1]["quantity"] == 350_000.0


def test_relabelling_widens_only_with_authority() -> None:
    ctx, svc = node()
    sato = caller(ctx, "sato", "JPN")
    hall = svc.create_shelter(sato, shelter_in(REL_US_JP))
    with pytest.raises(Forbidden):
        svc.update_shelter(sato, hall.id, ShelterPatch(label="UNCLASSIFIED"))
    chief = caller(ctx, "kato", "JPN", "SECRET", "classifier")
    wide = svc.update_shelter(chief, hall.id, ShelterPatch(label="UNCLASSIFIED"))
    assert wide.rel_to == [] and wide.label == "UNCLASSIFIED"
    assert svc.shelter(caller(ctx, "smith", "AUS"), hall.id).name == hall.name
