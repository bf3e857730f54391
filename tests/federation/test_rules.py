"""The refusal rules over envelopes: one set for the event log and every other stream."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.core.labels import Classification, GroupRegistry, Label, parse_label
from kizuna.core.records import Event
from kizuna.core.release import make_principal
from kizuna.federation.rules import (
    MAX_HOPS,
    Peer,
    event_envelope,
    receipt_refusal,
    send_refusal,
    wire_refusal,
)
from kizuna.kernel.config import PeerConfig
from kizuna.kernel.contract import expand_groups
from kizuna.kernel.streams import Envelope

GROUPS = GroupRegistry({"ACM": ["USA", "JPN"]})
NATION = {"usfj": "USA", "jjoc": "JPN", "aus": "AUS"}
ME = "usfj"
ME_PRINCIPAL = make_principal("USA", Classification.TOP_SECRET, registry=GROUPS, name="node:usfj")


def peer(
    peer_id: str = "jjoc",
    *,
    types: tuple[str, ...] = ("report", "track"),
    relay: bool = False,
    max_classification: str = "SECRET",
) -> Peer:
    config = PeerConfig(
        peer_id=peer_id,
        nation=NATION[peer_id],
        url="https://127.0.0.1:1",
        cert=f"peers/{peer_id}.pem",
        types=list(types),
        relay=relay,
        max_classification=max_classification,
    )
    return Peer(config, GROUPS, fingerprint="00")


def label(marking: str, originator: str = "USA") -> Label:
    return parse_label(marking, originator=originator, groups=GROUPS)


def event(
    origin: str = ME,
    marking: str = "S//REL TO USA, JPN",
    *,
    record_type: str = "report",
    hops: int = 0,
) -> Event:
    return Event(
        origin=origin,
        seq=1,
        hlc=1,
        record_type=record_type,
        record_id="r1",
        op="create",
        label=label(marking, NATION[origin]),
        hops=hops,
    )


# -- events -------------------------------------------------------------------


def test_event_envelope_is_relative_to_its_holder() -> None:
    ours = event(ME)
    assert event_envelope(ours, ME).relayed_from is None
    relayed = event("aus", "S//REL TO USA, AUS, JPN", hops=1)
    env = event_envelope(relayed, ME)
    assert (env.origin, env.relayed_from, env.hops) == ("aus", "aus", 1)
    # On receipt the holder is the sending peer: its own events are not relayed.
    assert event_envelope(event("jjoc"), "jjoc").relayed_from is None
    assert event_envelope(relayed, "jjoc").relayed_from == "aus"


@pytest.mark.parametrize(
    ("ev", "agreement", "reason"),
    [
        (event(), {}, None),
        (event(record_type="request"), {}, "type"),
        (event("jjoc"), {"relay": True}, "echo"),
        (event("aus", "S//REL TO USA, AUS, JPN"), {}, "relay"),
        (event("aus", "S//REL TO USA, AUS, JPN"), {"relay": True}, None),
        (event("aus", "S//REL TO USA, AUS, JPN", hops=MAX_HOPS - 2), {"relay": True}, None),
        (event("aus", "S//REL TO USA, AUS, JPN", hops=MAX_HOPS - 1), {"relay": True}, "hops"),
        (event(ME, "S//NOFORN"), {}, "label"),
        (event(ME, "TS//REL TO USA, JPN"), {}, "label"),  # above the agreement
        (event(ME, "TS//REL TO USA, JPN"), {"max_classification": "TOP SECRET"}, None),
        (event(ME, "S//REL TO ACM"), {}, None),  # it leaves as REL TO USA, JPN
        (event("aus", "S//REL TO ACM, AUS"), {"relay": True}, "group_label"),  # not ours
        (event(ME, "S//REL TO USA, AUS"), {}, "label"),
    ],
)
def test_events_on_send(ev: Event, agreement: dict[str, object], reason: str | None) -> None:
    p = peer(**agreement)  # type: ignore[arg-type]
    assert send_refusal(p, ev.record_type, event_envelope(ev, ME)) == reason


@pytest.mark.parametrize(
    ("ev", "agreement", "reason"),
    [
        (event("jjoc", "S//REL TO USA, JPN"), {}, None),
        (event(ME), {"relay": True}, "own"),
        (event("jjoc", record_type="request"), {}, "type"),
        (event("aus", "S//REL TO USA, AUS, JPN", hops=1), {}, "relay"),
        (event("aus", "S//REL TO USA, AUS, JPN", hops=1), {"relay": True}, None),
        (event("aus", "S//REL TO USA, AUS, JPN", hops=MAX_HOPS), {"relay": True}, "hops"),
        (event("jjoc", "TS//REL TO USA, JPN"), {}, "above_agreement"),
        (event("jjoc", "TS//REL TO USA, JPN"), {"max_classification": "TOP SECRET"}, None),
        (event("jjoc", "S//NOFORN"), {}, "label"),
        (event("jjoc", "S//REL TO JPN, AUS"), {}, "label"),
        (event("jjoc", "U"), {}, None),
        # A node-defined group means the sender's definition: it should have expanded it.
        (event("jjoc", "S//REL TO ACM"), {}, "group_label"),
        (event("jjoc", "S//REL TO FVEY, JPN"), {}, None),  # FVEY is the same everywhere
    ],
)
def test_events_on_receipt(ev: Event, agreement: dict[str, object], reason: str | None) -> None:
    p = peer(**agreement)  # type: ignore[arg-type]
    env = event_envelope(ev, p.id)  # as the sender held it
    assert receipt_refusal(ME, ME_PRINCIPAL, p, ev.record_type, env) == reason


# -- a stream outside the log (tracks, a domain's records) ----------------------


def item(marking: str = "S//REL TO USA, JPN", via: str | None = None, hops: int = 0) -> Envelope:
    """What a stream such as the picture's tracks says of an item: no origin, who delivered it."""
    return Envelope(label=label(marking), relayed_from=via, hops=hops)


@pytest.mark.parametrize(
    ("env", "kind", "agreement", "reason"),
    [
        (item(), "track", {}, None),
        (item(), "beacon", {}, "type"),
        (item(via="jjoc"), "track", {"relay": True}, "echo"),
        (item(via="aus"), "track", {}, "relay"),
        (item("S//REL TO USA, AUS, JPN", via="aus"), "track", {"relay": True}, None),
        (item(via="aus", hops=MAX_HOPS - 1), "track", {"relay": True}, "hops"),
        (item("S//NOFORN"), "track", {}, "label"),
        (item("U"), "track", {}, None),
        (item("S//REL TO ACM"), "track", {}, None),  # ours: the stream expands it
        (item("S//REL TO ACM", via="aus"), "track", {"relay": True}, "group_label"),
    ],
)
def test_stream_items_on_send(
    env: Envelope, kind: str, agreement: dict[str, object], reason: str | None
) -> None:
    assert send_refusal(peer(**agreement), kind, env) == reason  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("env", "kind", "agreement", "reason"),
    [
        (item(), "track", {}, None),
        (item(), "beacon", {}, "type"),
        (item(via=ME), "track", {"relay": True}, "own"),
        (item(via="aus"), "track", {}, "relay"),
        (item(via="aus"), "track", {"relay": True}, None),
        (item(via="aus", hops=MAX_HOPS), "track", {"relay": True}, "hops"),
        (item("TS//REL TO USA, JPN"), "track", {}, "above_agreement"),
        (item("S//NOFORN"), "track", {}, None),  # USA's own marking: released to USA
        (Envelope(label=label("S//NOFORN", "JPN")), "track", {}, "label"),
        (item("S//REL TO ACM"), "track", {}, "group_label"),
    ],
)
def test_stream_items_on_receipt(
    env: Envelope, kind: str, agreement: dict[str, object], reason: str | None
) -> None:
    p = peer(**agreement)  # type: ignore[arg-type]
    assert receipt_refusal(ME, ME_PRINCIPAL, p, kind, env) == reason


def test_node_defined_groups_leave_as_their_nations() -> None:
    ours = GroupRegistry({"ACM": ["USA", "JPN", "KOR"]})
    wide = expand_groups(label("S//REL TO ACM, FVEY"), ours)
    assert wide.render() == "SECRET//REL TO USA, JPN, KOR, FVEY"
    assert wire_refusal(Envelope(label=wide)) is None
    assert wire_refusal(Envelope(label=label("S//REL TO ACM"))) == "group_label"
    plain = label("S//REL TO USA, JPN")
    assert expand_groups(plain, ours) is plain


# -- one rule for both: a conforming sender never makes a violation -------------

MARKINGS = [
    "U",
    "C//REL TO USA, JPN",
    "S//REL TO USA, JPN",
    "S//REL TO USA, AUS, JPN",
    "S//NOFORN",
    "S//REL TO FVEY",
    "S//REL TO ACM",
    "TS//REL TO USA, JPN",
    "S",
]


@given(
    marking=st.sampled_from(MARKINGS),
    origin=st.sampled_from(sorted(NATION)),
    hops=st.integers(0, MAX_HOPS + 1),
    relay=st.booleans(),
    level=st.sampled_from(["CONFIDENTIAL", "SECRET", "TOP SECRET"]),
    kind=st.sampled_from(["report", "track", "request"]),
    as_event=st.booleans(),
)
def test_what_a_node_sends_its_peer_accepts(
    marking: str, origin: str, hops: int, relay: bool, level: str, kind: str, as_event: bool
) -> None:
    """usfj sends to jjoc under an agreement; jjoc holds the same agreement about usfj."""
    to_jjoc = peer("jjoc", relay=relay, max_classification=level)
    at_jjoc_from_usfj = Peer(
        PeerConfig(
            peer_id=ME,
            nation="USA",
            url="https://127.0.0.1:1",
            cert="peers/usfj.pem",
            types=["report", "track"],
            relay=relay,
            max_classification=level,
        ),
        GROUPS,
        fingerprint="00",
    )
    jjoc = make_principal("JPN", Classification.TOP_SECRET, registry=GROUPS, name="node:jjoc")
    own = origin == ME
    if as_event:
        ev = event(origin, marking, record_type=kind, hops=0 if own else hops)
        sent_env = event_envelope(ev, ME)
        # On the wire: our own with node-defined groups expanded, a relayed one a hop further.
        changes = {"label": expand_groups(ev.label, GROUPS)} if own else {"hops": ev.hops + 1}
        wire = Event(**{**_fields(ev), **changes})
        received_env = event_envelope(wire, ME)
    else:
        lab = label(marking, NATION[origin])
        via = None if own else origin
        sent_env = Envelope(label=lab, relayed_from=via, hops=0 if own else hops)
        received_env = Envelope(
            label=expand_groups(lab, GROUPS), relayed_from=via, hops=sent_env.hops
        )
    if send_refusal(to_jjoc, kind, sent_env) is None:
        assert receipt_refusal("jjoc", jjoc, at_jjoc_from_usfj, kind, received_env) is None


def _fields(ev: Event) -> dict[str, object]:
    return {f: getattr(ev, f) for f in ev.__struct_fields__}
