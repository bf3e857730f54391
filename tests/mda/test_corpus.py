"""The regression corpus (tests/mda/corpus.py): exactly the injected events, on time.

Gap, loitering and encounter are this package's own detectors. The spoofing and zone
assertions wait for ``kizuna.mda.detect.spoof`` and ``kizuna.mda.detect.zone``: they are
skipped (``pytest.importorskip``) only while those modules are absent.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path

import pytest

from kizuna.mda.detect.base import Emission
from kizuna.mda.detect.gap import GapConfig
from kizuna.mda.detect.pipeline import Pipeline, PipelineConfig
from kizuna.mda.detect.ports import parse_ports_csv
from tests.mda import corpus as C

TOLERANCE = 600.0  # start and end within 10 minutes of the truth
OURS = ("gap", "loitering", "encounter")


@pytest.fixture(scope="module")
def ports(shared_data: Path) -> list[tuple[float, float]]:
    return parse_ports_csv((shared_data / "reference" / "ports.csv").read_text())


def run(
    fixes: Iterable, ports, config: PipelineConfig | None = None, batches=None
) -> list[Emission]:
    p = Pipeline(config, ports, zones=(C.ZONE,))
    fixes = list(fixes)
    out: list[Emission] = []
    if batches is None:
        out += p.feed_many(fixes)
    else:
        i = 0
        for n in batches:
            out += p.feed_many(fixes[i : i + n])
            i += n
        out += p.feed_many(fixes[i:])
    out += p.tick(p.clock)
    return out


def final(emissions: list[Emission]) -> dict[str, Emission]:
    """The last state of every event, retracted ones dropped."""
    last: dict[str, Emission] = {}
    for e in emissions:
        last[e.id] = e
    return {k: e for k, e in last.items() if e.status != "retracted"}


@pytest.fixture(scope="module")
def injected(shared_data: Path) -> C.Corpus:
    return C.injected()


@pytest.fixture(scope="module")
def injected_run(injected: C.Corpus, ports) -> list[Emission]:
    return run(injected.fixes(), ports)


@pytest.fixture(scope="module")
def untouched_run(shared_data: Path, ports) -> list[Emission]:
    return run(C.untouched().fixes(), ports)


def _kind(e: Emission) -> str:
    return str(e.detail.get("kind", "")) if e.type in ("spoofing", "zone") else ""


def _match(events: dict[str, Emission], truth: list[C.Truth], types: Iterable[str]) -> None:
    types = set(types)
    got = sorted(
        (
            ((e.type, e.vessels, _kind(e)), e)
            for e in events.values()
            if e.type in types
            and not (e.type == "loitering" and e.vessels[0] in C.BACKGROUND_LOITERING)
        ),
        key=lambda x: (x[0], x[1].start),
    )
    want = sorted(
        (((t.type, t.vessels, t.kind), t) for t in truth if t.type in types),
        key=lambda x: (x[0], x[1].start),
    )
    assert [k for k, _ in got] == [k for k, _ in want]
    for (_, e), (_, t) in zip(got, want, strict=True):
        assert abs(e.start - t.start) <= TOLERANCE, (e.type, e.vessels, e.start - t.start)
        assert e.end is not None and t.end is not None, (e.type, e.vessels)
        assert abs(e.end - t.end) <= TOLERANCE, (e.type, e.vessels, e.end - t.end)


def test_injected_gap_loitering_encounter_exactly(injected, injected_run) -> None:
    events = final(injected_run)
    _match(events, injected.truth, OURS)
    gaps = {e.vessels[0]: e for e in events.values() if e.type == "gap"}
    # the 13 h silence was seen by two sources before it; the distance is its track's
    g13, g7 = gaps[str(C.GAP13)], gaps[str(C.GAP7)]
    assert g13.detail["sources_before"] == 2 and g7.detail["sources_before"] == 1
    for g in (g13, g7):
        assert g.detail["implied_speed_kn"] < 5.0 and [ev.t for ev in g.evidence] == [
            g.start,
            g.end,
        ]
    enc = next(e for e in events.values() if e.type == "encounter")
    assert enc.detail["min_distance_m"] < 500.0 and enc.detail["median_speed_kn"] < 2.0
    assert abs(enc.lat - C.RDV_POINT[0]) < 0.01 and abs(enc.lon - C.RDV_POINT[1]) < 0.01


def test_injected_gaps_open_live_before_they_close(injected_run) -> None:
    gap_em = [e for e in injected_run if e.type == "gap"]
    assert [e.status for e in gap_em] == ["open", "open", "closed", "closed"]
    assert gap_em[0].vessels == (str(C.GAP13),)  # silent first, so due first


def test_background_loitering_is_the_anchored_vessels(untouched_run, injected_run) -> None:
    for emitted in (untouched_run, injected_run):
        loiter = {e.vessels[0] for e in final(emitted).values() if e.type == "loitering"}
        assert loiter - {str(m) for m in C.RDV} == C.BACKGROUND_LOITERING


def test_untouched_corpus_has_none_of_the_injected_kinds(untouched_run) -> None:
    kinds = {e.type for e in untouched_run}
    assert kinds <= {"loitering"}, kinds


def test_gfw_12h_threshold_keeps_only_the_13h_silence(injected, ports) -> None:
    cfg = PipelineConfig(gap=GapConfig(threshold_s=12 * 3600.0), detectors=frozenset({"gap"}))
    gaps = [e for e in final(run(injected.fixes(), ports, cfg)).values() if e.type == "gap"]
    assert [g.vessels for g in gaps] == [(str(C.GAP13),)]


def test_replay_and_batching_give_the_same_emissions(injected, injected_run, ports) -> None:
    key = [(e.id, e.status, e.end) for e in injected_run]
    assert [(e.id, e.status, e.end) for e in run(injected.fixes(), ports)] == key
    rng = random.Random(13)
    batches = [rng.choice((1, 7, 100, 999, 5000)) for _ in range(400)]
    assert [(e.id, e.status, e.end) for e in run(injected.fixes(), ports, batches=batches)] == key


# -- waits for spoof.py and zone.py (the other helper's detectors) ---------------------


def test_injected_spoofing_exactly(injected, injected_run) -> None:
    pytest.importorskip("kizuna.mda.detect.spoof")
    _match(final(injected_run), injected.truth, ("spoofing",))


def test_injected_zone_crossing_exactly(injected, injected_run) -> None:
    pytest.importorskip("kizuna.mda.detect.zone")
    _match(final(injected_run), injected.truth, ("zone",))
