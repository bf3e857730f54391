"""The oracle of the randomized egress test: what each principal must get, and must not.

Everything here is computed in the test from ``kizuna.core.release.may_release`` and
the labels the test wrote; nothing is read back from the nodes to decide what is right.

* Labels mean what their originating node defines: a group is read with the origin's
  registry everywhere (aus defines ACM differently and adds PIF). So every release
  question is asked of a principal as the record's origin sees it.
* A *record* (report, request, comment, attachment) is held by its origin node and by
  every peer it may be released to (the peer as a principal: its nation, the
  agreement's highest classification). A child (comment, attachment) is bounded by
  its parent: released only where both labels allow.
* A *track entry* is one object (one track id) with one observation per source; each
  source reports one or two versions (rounds), each with its own label and a position
  that names it. A node holds, per source, the origin's newest version, or on a peer
  the newest version that may be released to that peer. A principal sees the newest
  held observation it may see, with the provenance of every held source it may see.
* A *leak* is anything returned that ``may_release`` denies (or that never may reach
  that node); an *over-denial* is anything ``may_release`` allows, held where it should
  be, and not returned; a *mismatch* is an answer that is neither (the wrong version,
  a relabelled record).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kizuna.core.labels import (
    Classification,
    GroupRegistry,
    Label,
    LabelError,
    make_label,
    parse_label,
)
from kizuna.core.release import Principal, make_principal, may_release
from tests.core.strategies import REGISTRY

NODES = {"usfj": "USA", "jjoc": "JPN", "aus": "AUS"}
# Each pair's sharing agreement (the same both ways): its highest classification.
AGREEMENTS = {
    frozenset(("usfj", "jjoc")): Classification.SECRET,
    frozenset(("usfj", "aus")): Classification.SECRET,
    frozenset(("jjoc", "aus")): Classification.CONFIDENTIAL,
}
# Each node's groups (`kizuna init --group`): usfj and jjoc as tests/core/strategies.py;
# aus gives ACM another member (KOR) and defines PIF, which the others do not know.
REGISTRIES = {
    "usfj": REGISTRY,
    "jjoc": REGISTRY,
    "aus": GroupRegistry(
        {
            "ACM": ["USA", "JPN", "KOR"],
            "QUAD": sorted(REGISTRY.members("QUAD")),
            "PIF": ["AUS", "FJI", "NZL"],
        }
    ),
}
NODE_GROUPS = {
    nid: [g for g in reg.names() if g not in ("FVEY", "NATO")] for nid, reg in REGISTRIES.items()
}


def group_specs(node: str) -> list[str]:
    reg = REGISTRIES[node]
    return [f"{g}={','.join(sorted(reg.members(g)))}" for g in NODE_GROUPS[node]]


@functools.cache
def _principal(nation: str, clearance: Classification, origin: str) -> Principal:
    return make_principal(nation, clearance, registry=REGISTRIES[origin])


class Viewer:
    """Someone data may be released to, asked as each origin sees them (its groups)."""

    nation: str
    clearance: Classification

    def seen_from(self, origin: str) -> Principal:
        return _principal(self.nation, self.clearance, origin)


class Peer(Viewer):
    def __init__(self, nation: str, clearance: Classification) -> None:
        self.nation, self.clearance = nation, clearance


@functools.cache
def peer(origin: str, holder: str) -> Peer:
    """``holder`` as ``origin`` sees it when it decides what to send."""
    return Peer(NODES[holder], AGREEMENTS[frozenset((origin, holder))])


@dataclass(eq=False)
class Who(Viewer):
    """A principal of the test: an API user or a TAK TLS client, on one node."""

    name: str
    node: str
    nation: str
    clearance: Classification
    kind: str = "api"  # "api" | "tak"
    claims: tuple[str, ...] = ()  # groups named at `user add` / `tak client-cert`
    token: str = ""
    principal: Principal = field(init=False)

    def __post_init__(self) -> None:
        # as its own node builds it (the ingress rule asks this one)
        registry = REGISTRIES[self.node]
        self.principal = make_principal(self.nation, self.clearance, self.claims, registry=registry)

    def __str__(self) -> str:
        return f"{self.name}({self.nation} {self.clearance.abbreviation}, {self.kind}@{self.node})"


def may_write_on(node: str, label: Label, who: Who) -> bool:
    """The ingress rule (ADR 0006): the host node's nation originates; the label is not
    above the writer's clearance and releasable to the writer and to the host nation."""
    host = make_principal(NODES[node], Classification.TOP_SECRET, registry=REGISTRIES[node])
    return (
        label.originator == NODES[node]
        and label.classification <= who.clearance
        and may_release(label, who.principal)
        and may_release(label, host)
    )


def marking(label: Label) -> str:
    """The marking as a writer on the originating node types it (no //CCC prefix)."""
    return label.render(fgi=False)


@dataclass(eq=False)
class Rec:
    """A report, request, comment or attachment: written once, never changed."""

    kind: str
    id: str
    origin: str  # node that wrote it
    label: Label
    parent: Rec | None = None

    def allows(self, p: Viewer) -> bool:
        mine = may_release(self.label, p.seen_from(self.origin))
        return mine and (self.parent is None or self.parent.allows(p))

    def held_at(self, node: str) -> bool:
        return node == self.origin or self.allows(peer(self.origin, node))

    def visible(self, node: str, p: Viewer) -> bool:
        return self.held_at(node) and self.allows(p)

    def __str__(self) -> str:
        parent = (
            f" in {self.parent.kind} {self.parent.id} [{self.parent.label}]" if self.parent else ""
        )
        return f"{self.kind} {self.id} from {self.origin} [{self.label}]{parent}"


@dataclass(eq=False)
class Version:
    """One report of one source about one object."""

    entry: Entry
    source: str
    round: int
    lat: float
    lon: float
    observed_at: float
    label: Label
    sender: str = ""  # the TAK client that sent it (CoT), which gets no echo

    @property
    def key(self) -> tuple[float, float]:
        return position_key(self.lat, self.lon)

    def __str__(self) -> str:
        return (
            f"{self.entry.id}/{self.source} v{self.round} from {self.entry.origin} [{self.label}]"
        )


def position_key(lat: float, lon: float) -> tuple[float, float]:
    return (round(float(lat), 4), round(float(lon), 4))


@dataclass(eq=False)
class Entry:
    """One track id: its sources and their versions, oldest first."""

    id: str
    origin: str
    ingress: str  # "api" | "cot"
    uid: str  # the CoT uid TAK clients see
    versions: dict[str, list[Version]] = field(default_factory=dict)

    def held(self, node: str) -> dict[str, Version]:
        out = {}
        for source, versions in self.versions.items():
            if node == self.origin:
                out[source] = versions[-1]
                continue
            to = peer(self.origin, node).seen_from(self.origin)
            sent = [v for v in versions if may_release(v.label, to)]
            if sent:
                out[source] = sent[-1]
        return out

    def ever(self, node: str) -> set[Version]:
        if node == self.origin:
            return {v for vs in self.versions.values() for v in vs}
        to = peer(self.origin, node).seen_from(self.origin)
        return {v for vs in self.versions.values() for v in vs if may_release(v.label, to)}

    def allows(self, v: Version, p: Viewer) -> bool:
        return may_release(v.label, p.seen_from(self.origin))

    def view(self, node: str, p: Viewer) -> tuple[Version | None, set[str]]:
        """The observation ``p`` sees on ``node`` and the sources it is told of."""
        seen = [v for v in self.held(node).values() if self.allows(v, p)]
        if not seen:
            return None, set()
        return max(seen, key=lambda v: (v.observed_at, v.source)), {v.source for v in seen}


@dataclass
class Finding:
    category: str  # leak | over-denial | mismatch
    egress: str
    node: str
    who: str
    what: str
    detail: str = ""

    @property
    def key(self) -> tuple[str, ...]:
        return (self.category, self.egress, self.node, self.who, self.what)

    def __str__(self) -> str:
        extra = f": {self.detail}" if self.detail else ""
        return f"{self.category} via {self.egress} on {self.node} to {self.who}: {self.what}{extra}"


class Tally:
    """Trials per egress and what went wrong."""

    def __init__(self) -> None:
        self.trials: Counter[str] = Counter()
        self.returned: Counter[str] = Counter()  # items the egress answered (not vacuous)
        self.findings: list[Finding] = []

    def trial(self, egress: str, n: int = 1) -> None:
        self.trials[egress] += n

    def add(
        self, category: str, egress: str, node: str, who: object, what: object, detail: str = ""
    ) -> None:
        self.findings.append(Finding(category, egress, node, str(who), str(what), detail))

    def of(self, category: str) -> list[Finding]:
        return [f for f in self.findings if f.category == category]

    @property
    def total(self) -> int:
        return sum(self.trials.values())


# -- the world the test wrote ---------------------------------------------------


class World:
    def __init__(self) -> None:
        self.recs: dict[str, Rec] = {}
        self.entries: dict[str, Entry] = {}
        self.by_key: dict[tuple[float, float], Version] = {}
        self.by_uid: dict[str, Entry] = {}
        # writes the ingress rule refuses: their positions (tracks) and ids must appear nowhere
        self.refused: dict[tuple[float, float] | str, str] = {}
        self.notes: list[Finding] = []  # what went wrong while writing

    def add(self, rec: Rec) -> Rec:
        assert rec.id not in self.recs, rec.id
        self.recs[rec.id] = rec
        return rec

    def of_kind(self, kind: str) -> list[Rec]:
        return [r for r in self.recs.values() if r.kind == kind]

    def children(self, parent: Rec, kind: str) -> list[Rec]:
        return [r for r in self.recs.values() if r.kind == kind and r.parent is parent]

    def entry(self, tid: str, origin: str, ingress: str, uid: str) -> Entry:
        entry = self.entries.get(tid)
        if entry is None:
            entry = self.entries[tid] = Entry(tid, origin, ingress, uid)
            self.by_uid[uid] = entry
        return entry

    def version(
        self,
        entry: Entry,
        source: str,
        lat: float,
        lon: float,
        observed_at: float,
        label: Label,
        sender: str = "",
    ) -> Version:
        versions = entry.versions.setdefault(source, [])
        v = Version(entry, source, len(versions) + 1, lat, lon, observed_at, label, sender)
        assert v.key not in self.by_key, v.key
        versions.append(v)
        self.by_key[v.key] = v
        return v


# -- checks -----------------------------------------------------------------------


def audience(label: Label, registry: GroupRegistry) -> frozenset[str] | None:
    """The nations a label's REL TO list names, groups expanded as ``registry`` defines
    them (None: no list)."""
    if not label.rel_to:
        return None
    out: set[str] = set()
    for code in label.rel_to:
        out |= registry.members(code) if code in registry else {code}
    return frozenset(out)


def same_meaning(written: Label, origin: str, answered: Label, holder: str) -> bool:
    """Equal up to how the REL TO list is spelled: a group or its members, each read as
    the node that holds that spelling defines it (federation may expand groups)."""
    a, b = written, answered
    return (a.classification, a.noforn, a.exercise, a.originator) == (
        b.classification,
        b.noforn,
        b.exercise,
        b.originator,
    ) and audience(a, REGISTRIES[origin]) == audience(b, REGISTRIES[holder])


def _label_problem(item: Mapping[str, Any], label: Label, origin: str, holder: str) -> str | None:
    got = (item.get("label"), item.get("originator"))
    try:
        answered = parse_label(str(got[0]), originator=str(got[1]), groups=REGISTRIES[holder])
    except (LabelError, TypeError) as exc:
        return f"answered as {got}: {exc}"
    if same_meaning(label, origin, answered, holder):
        return None
    return f"answered as {got}, written as {(marking(label), label.originator)}"


def check_records(
    tally: Tally,
    egress: str,
    node: str,
    who: Who,
    kind: str,
    universe: Iterable[Rec],
    items: Iterable[Mapping[str, Any]],
    world: World,
) -> None:
    """A list answer of reports or requests: every record of ``universe`` is one trial."""
    got = {str(i["id"]): i for i in items}
    tally.returned[egress] += len(got)
    for rec in universe:
        tally.trial(egress)
        item = got.pop(rec.id, None)
        expected = rec.visible(node, who)
        if item is None:
            if expected:
                tally.add("over-denial", egress, node, who, rec)
            continue
        if not expected:
            tally.add("leak", egress, node, who, rec)
            continue
        problem = _label_problem(item, rec.label, rec.origin, node)
        if problem:
            tally.add("mismatch", egress, node, who, rec, problem)
        if kind == "request":
            check_children(tally, egress, node, who, rec, item, world)
    for rid in got:
        tally.add("leak", egress, node, who, f"{kind} {rid} the test never wrote")


def check_one(
    tally: Tally,
    egress: str,
    node: str,
    who: Who,
    rec: Rec,
    status: int,
    item: Mapping[str, Any] | None,
    world: World,
) -> None:
    """A GET of one record: 200 with it, or 404."""
    tally.trial(egress)
    expected = rec.visible(node, who)
    if status == 404:
        if expected:
            tally.add("over-denial", egress, node, who, rec)
        return
    if status != 200 or item is None:
        tally.add("mismatch", egress, node, who, rec, f"status {status}")
        return
    if not expected:
        tally.add("leak", egress, node, who, rec)
        return
    if item.get("id") != rec.id:
        tally.add("mismatch", egress, node, who, rec, f"answered with id {item.get('id')}")
    problem = _label_problem(item, rec.label, rec.origin, node) if "label" in item else None
    if problem:
        tally.add("mismatch", egress, node, who, rec, problem)
    if rec.kind == "request":
        check_children(tally, egress, node, who, rec, item, world)


def check_children(
    tally: Tally,
    egress: str,
    node: str,
    who: Who,
    request: Rec,
    item: Mapping[str, Any],
    world: World,
) -> None:
    """Comments, attachments and the timeline inside a request the caller may see."""
    p = who
    for kind, field_name, action in (
        ("comment", "comments", "comment"),
        ("attachment", "attachments", "attach"),
    ):
        got = {str(c["id"]): c for c in item.get(field_name, [])}
        visible = 0
        for child in world.children(request, kind):
            tally.trial(egress)
            shown = got.pop(child.id, None)
            expected = child.visible(node, p)
            visible += expected
            if shown is None:
                if expected:
                    tally.add("over-denial", egress, node, who, child)
            elif not expected:
                tally.add("leak", egress, node, who, child)
        for cid in got:
            tally.add("leak", egress, node, who, f"{kind} {cid} the test never wrote, in {request}")
        tally.trial(egress)
        entries = sum(1 for t in item.get("timeline", []) if t.get("action") == action)
        if entries > visible:
            tally.add(
                "leak",
                egress,
                node,
                who,
                f"timeline of {request}",
                f"{entries} {action} entries, {visible} {kind}s visible",
            )
        elif entries < visible:
            tally.add(
                "over-denial",
                egress,
                node,
                who,
                f"timeline of {request}",
                f"{entries} {action} entries, {visible} {kind}s visible",
            )


def _version_of(world: World, item: Mapping[str, Any]) -> Version | None:
    return world.by_key.get(position_key(item["lat"], item["lon"]))


def _unknown(world: World, lat: float, lon: float) -> str:
    refused = world.refused.get(position_key(lat, lon))
    if refused:
        return f"a report the ingress rule refuses ({refused}) at {lat}, {lon}"
    return f"a position the test never reported: {lat}, {lon}"


def check_track(
    tally: Tally,
    egress: str,
    node: str,
    who: Who,
    entry: Entry,
    item: Mapping[str, Any] | None,
    world: World,
    bbox: BBox | None = None,
) -> None:
    """One fused track view (or its absence) against the entry's expected view (inside
    ``bbox``, minlon, minlat, maxlon, maxlat, when the query named one)."""
    tally.trial(egress)
    want, sources = entry.view(node, who)
    if want is not None and bbox is not None and not inside(bbox, want.lat, want.lon):
        want = None
    if item is not None and bbox is not None and not inside(bbox, item["lat"], item["lon"]):
        tally.add("mismatch", egress, node, who, f"track {entry.id}", f"outside the bbox {bbox}")
    if item is None:
        if want is not None:
            tally.add("over-denial", egress, node, who, want)
        return
    version = _version_of(world, item)
    if version is None or version.entry is not entry:
        tally.add(
            "leak",
            egress,
            node,
            who,
            f"track {entry.id}",
            _unknown(world, item["lat"], item["lon"]),
        )
        return
    if version not in entry.ever(node) or not entry.allows(version, who):
        tally.add("leak", egress, node, who, version)
        return
    if version is not want:
        tally.add("mismatch", egress, node, who, version, f"expected {want}")
    problem = _label_problem(item, version.label, entry.origin, node)
    if problem:
        tally.add("mismatch", egress, node, who, version, problem)
    shown = {s["source"] for s in item.get("sources", [])}
    held = entry.held(node)
    for source in shown - sources:
        v = held.get(source)
        tally.add(
            "leak", egress, node, who, v or f"{entry.id}/{source}", "named in the track's sources"
        )
    for source in sources - shown:
        tally.add(
            "over-denial", egress, node, who, held[source], "missing from the track's sources"
        )


BBox = tuple[float, float, float, float]


def inside(bbox: BBox, lat: float, lon: float) -> bool:
    minlon, minlat, maxlon, maxlat = bbox
    return minlat <= lat <= maxlat and minlon <= lon <= maxlon


def check_tracks(
    tally: Tally,
    egress: str,
    node: str,
    who: Who,
    items: Iterable[Mapping[str, Any]],
    world: World,
    bbox: BBox | None = None,
) -> None:
    """A whole picture (list, GeoJSON, WebSocket snapshot, live state): every entry a trial."""
    got: dict[str, Mapping[str, Any]] = {}
    for item in items:
        tid = str(item["id"])
        if tid in got:
            tally.add("mismatch", egress, node, who, f"track {tid}", "answered twice")
        got[tid] = item
    tally.returned[egress] += len(got)
    for entry in world.entries.values():
        check_track(tally, egress, node, who, entry, got.pop(entry.id, None), world, bbox)
    for tid, item in got.items():
        tally.add(
            "leak", egress, node, who, f"track {tid}", _unknown(world, item["lat"], item["lon"])
        )


def check_history(
    tally: Tally,
    node: str,
    who: Who,
    entry: Entry,
    status: int,
    points: list[Mapping[str, Any]] | None,
    world: World,
) -> None:
    egress = "track history"
    tally.trial(egress)
    want, _ = entry.view(node, who)
    if want is None:
        if status != 404:
            tally.add(
                "leak",
                egress,
                node,
                who,
                f"track {entry.id}",
                f"status {status} for a track the caller may not see",
            )
        return
    if status != 200 or points is None:
        tally.add("over-denial", egress, node, who, want, f"status {status}")
        return
    expected = {v for v in entry.ever(node) if entry.allows(v, who)}
    seen = set()
    for point in points:
        v = _version_of(world, point)
        if v is None or v.entry is not entry:
            tally.add(
                "leak",
                egress,
                node,
                who,
                f"track {entry.id}",
                _unknown(world, point["lat"], point["lon"]),
            )
        elif v not in expected:
            tally.add("leak", egress, node, who, v)
        else:
            seen.add(v)
    for v in expected - seen:
        tally.add("over-denial", egress, node, who, v)


def cot_label_problem(
    attrs: Mapping[str, str], label: Label, origin: str, holder: str
) -> str | None:
    """A CoT event's access/caveat/releaseableTo against the label it should carry."""
    try:
        got = make_label(
            Classification.parse(attrs.get("access", "")),
            rel_to=attrs.get("releaseableTo", "").split(),
            noforn="NOFORN" in attrs.get("caveat", "").upper(),
            exercise=label.exercise,
            originator=label.originator,
            groups=REGISTRIES[holder],
        )
    except LabelError as exc:
        return f"CoT marked {dict(attrs)}: {exc}"
    return None if same_meaning(label, origin, got, holder) else f"CoT marked {dict(attrs)}"


def check_tak(
    tally: Tally, node: str, who: Who, events: list[dict[str, Any]], world: World
) -> None:
    """Everything a TAK TLS client received over the whole run (each observation on its own)."""
    egress = "TAK TLS"
    received: set[Version] = set()
    for ev in events:
        entry = world.by_uid.get(ev["uid"])
        v = world.by_key.get(position_key(ev["lat"], ev["lon"]))
        if entry is None or v is None or v.entry is not entry:
            tally.add(
                "leak",
                egress,
                node,
                who,
                f"CoT uid {ev['uid']}",
                _unknown(world, ev["lat"], ev["lon"]),
            )
            continue
        if v not in entry.ever(node) or not entry.allows(v, who):
            tally.add("leak", egress, node, who, v)
            continue
        problem = cot_label_problem(ev["attrs"], v.label, entry.origin, node)
        if problem:
            tally.add("mismatch", egress, node, who, v, problem)
        received.add(v)
    for entry in world.entries.values():
        for v in entry.held(node).values():
            tally.trial(egress)
            if v.sender == who.name or not entry.allows(v, who):
                continue
            if v not in received:
                tally.add("over-denial", egress, node, who, v)


def replay_live(
    messages: list[dict[str, Any]],
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """A live session's final picture, every track item it was ever sent, and other pushes."""
    state: dict[str, dict[str, Any]] = {}
    items: list[dict[str, Any]] = []
    pushes: list[dict[str, Any]] = []
    for msg in messages:
        kind = msg.get("type")
        if kind == "tracks":
            if msg.get("snapshot"):
                state = {}
            for item in msg["items"]:
                state[item["id"]] = item
                items.append(item)
        elif kind == "track_removed":
            state.pop(msg["id"], None)
        elif kind in ("request", "overdue"):
            pushes.append(msg)
    return state, items, pushes


def check_live(
    tally: Tally, node: str, who: Who, messages: list[dict[str, Any]], world: World
) -> None:
    """A WebSocket session open before the first write and through the whole run."""
    state, items, pushes = replay_live(messages)
    egress = "WebSocket live"
    p = who
    for item in items:  # every push, not only the last state, must have been releasable
        v = _version_of(world, item)
        if v is None:
            tally.add(
                "leak",
                egress,
                node,
                who,
                f"track {item.get('id')}",
                _unknown(world, item["lat"], item["lon"]),
            )
        elif v not in v.entry.ever(node) or not v.entry.allows(v, p):
            tally.add("leak", egress, node, who, v, "pushed")
    check_tracks(tally, egress, node, who, state.values(), world)
    pushed: set[str] = set()
    for msg in pushes:
        rid = str(msg["item"]["id"])
        rec = world.recs.get(rid)
        if rec is None or rec.kind != "request":
            tally.add("leak", egress, node, who, f"request {rid} the test never wrote")
        elif not rec.visible(node, p):
            tally.add("leak", egress, node, who, rec, f"pushed as {msg['type']}")
        else:
            pushed.add(rid)
    for rec in world.of_kind("request"):
        tally.trial(egress)
        if rec.visible(node, p) and rec.id not in pushed:
            tally.add("over-denial", egress, node, who, rec, "never pushed")


def check_holdings(
    tally: Tally,
    node: str,
    held_ids: set[str],
    observations: Mapping[tuple[str, str], tuple[float, float]],
    world: World,
) -> None:
    """What the node's own database holds, read through the backend port."""
    egress = "holdings"
    who = "its own database"
    for rec in world.recs.values():
        tally.trial(egress)
        expected = rec.held_at(node)
        if rec.id in held_ids and not expected:
            tally.add("leak", egress, node, who, rec)
        elif rec.id not in held_ids and expected:
            detail = (
                "its own node does not hold it: the write was refused" if node == rec.origin else ""
            )
            tally.add("over-denial", egress, node, who, rec, detail)
    for entry in world.entries.values():
        held = entry.held(node)
        for source in entry.versions:
            tally.trial(egress)
            key = observations.get((entry.id, source))
            want = held.get(source)
            got = world.by_key.get(key) if key is not None else None
            if key is not None and (got is None or got not in entry.ever(node)):
                tally.add("leak", egress, node, who, got or f"{entry.id}/{source} at {key}")
            elif want is not None and got is not want:
                detail = (
                    "its own node does not hold it: the write was refused"
                    if node == entry.origin and got is None
                    else f"holds {got}"
                )
                tally.add("over-denial", egress, node, who, want, detail)
            elif want is None and got is not None:
                tally.add("leak", egress, node, who, got)
