"""The ORBAT across three real nodes (issue 15): JJOC's and USFJ's chains each owned by their
node, a COORDINATION edge between them, a command edge between them refused on the API and at
federation receipt, AUS holding only what is releasable to AUS, the task organisation as of
a past date after a re-subordination, and an export imported into a fresh node.

One cluster (module scope) seeded by the demo's ORBAT seed over HTTP.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from kizuna.cli import build
from kizuna.core.hlc import pack
from kizuna.core.labels import parse_label
from kizuna.core.records import Event, Precedence
from kizuna.scenario import orbat as scenario
from tests.nodes import NodeProcess, free_port, metric, peer_client, post_batch

PROBLEM = "application/problem+json"
BI = "SECRET//REL TO USA, JPN"
_seq = itertools.count(10**9)


def wait(what: str, probe: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def has(client: httpx.Client, path: str) -> bool:
    return client.get(path).status_code == 200


CLI = CliRunner()


def cli(*args: str) -> str:
    """A `kizuna` command run in this process (setting up three nodes with subprocesses costs
    tens of seconds on a loaded machine; the commands are the same)."""
    result = CLI.invoke(build(), list(args))
    assert result.exit_code == 0, f"kizuna {' '.join(args)}: {result.output}"
    return result.output


def init(directory: Path, node_id: str, nation: str) -> Path:
    port = free_port(2)
    cli(
        "init",
        "--dir",
        str(directory),
        "--node-id",
        node_id,
        "--nation",
        nation,
        "--port",
        str(port),
        "--no-cot",
    )
    return directory


def user(node: NodeProcess, name: str, nation: str, *extra: str) -> httpx.Client:
    out = cli(
        "user",
        "add",
        "--dir",
        str(node.dir),
        "--name",
        name,
        "--nation",
        nation,
        "--clearance",
        "SECRET",
        *extra,
    )
    token = out.strip().splitlines()[-1]
    return httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


class Nodes:
    def __init__(self, procs: dict[str, NodeProcess]) -> None:
        self.procs = procs
        self.jp = user(procs["jjoc"], "jp.ops", "JPN", "--group", "ACM")
        self.us = user(procs["usfj"], "us.ops", "USA", "--group", "ACM")
        self.au = user(procs["aus"], "au.ops", "AUS")


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    root = tmp_path_factory.mktemp("orbat")
    nations = {"jjoc": "JPN", "usfj": "USA", "aus": "AUS"}
    dirs = {n: init(root / n, n, nation) for n, nation in nations.items()}
    infos = {n: json.loads(cli("node", "info", "--dir", str(d))) for n, d in dirs.items()}
    for d in dirs.values():
        (d / "exported-cert.pem").write_text(cli("node", "cert", "--dir", str(d)))
    for a in dirs:
        for b in dirs:
            if a != b:  # every pair, both ways, sharing the ORBAT's record types
                cli(
                    "peer",
                    "add",
                    "--dir",
                    str(dirs[a]),
                    "--peer-id",
                    b,
                    "--nation",
                    nations[b],
                    "--url",
                    infos[b]["federation_url"],
                    "--cert",
                    str(dirs[b] / "exported-cert.pem"),
                    "--types",
                    "unit,unit_relation",
                )
    procs = {n: NodeProcess(d) for n, d in dirs.items()}
    try:
        with ThreadPoolExecutor(3) as pool:  # start the three at once
            list(pool.map(NodeProcess.start, procs.values()))
        n = Nodes(procs)
        scenario.seed(n.jp, n.us, n.au)
        yield n
    finally:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(NodeProcess.stop, procs.values()))


def test_each_chain_is_owned_by_its_node_and_seen_by_the_other(nodes: Nodes) -> None:
    jp, us = nodes.jp, nodes.us
    wait("JJOC's components on USFJ", lambda: has(us, "/api/v1/orbat/units/jasdf-space"))
    wait("USFJ's components on JJOC", lambda: has(jp, "/api/v1/orbat/units/5af"))
    for client in (jp, us):
        units = {u["id"]: u for u in ok(client.get("/api/v1/orbat/units"))}
        assert units["jjoc"]["origin"] == "jjoc" and units["jjoc"]["nation"] == "JPN"
        assert units["jjoc"]["name"]["ja"] == "統合作戦司令部"
        assert units["jgsdf-gcc"]["name"]["ja"] == "陸上総隊"
        assert units["usfj"]["origin"] == "usfj" and units["usfj"]["name"]["ja"] == "在日米軍"
    # The owner alone changes a unit.
    r = jp.patch("/api/v1/orbat/units/usfj", json={"hq": False})
    assert r.status_code == 403 and "usfj" in r.json()["detail"]

    # The COORDINATION edge JJOC recorded is on both nodes; the tree shows it, not a command.
    edge = wait(
        "the coordination edge on USFJ",
        lambda: (
            has(us, "/api/v1/orbat/relations/coord-jjoc-usfj")
            and us.get("/api/v1/orbat/relations/coord-jjoc-usfj").json()
        ),
    )
    assert (edge["kind"], edge["command"], edge["origin"]) == ("COORDINATION", False, "jjoc")
    wait(
        "USFJ's components under USFJ on JJOC",
        lambda: has(jp, "/api/v1/orbat/relations/rel-5af"),
    )
    tree = ok(jp.get("/api/v1/orbat/tree"))
    placed = {t["unit"]["id"]: t for t in tree["units"]}
    assert placed["usfj"]["parent"] is None and placed["jjoc"]["parent"] is None
    assert placed["5af"]["parent"] == "usfj" and placed["jasdf-adc"]["parent"] == "jjoc"
    assert placed["jasdf-adc"]["relation"]["kind"] == "OPCON"
    assert "coord-jjoc-usfj" in {c["id"] for c in tree["coordination"]}


def test_a_command_edge_between_the_chains_is_refused(nodes: Nodes) -> None:
    jp, us = nodes.jp, nodes.us
    wait("JJOC on USFJ", lambda: has(us, "/api/v1/orbat/units/jjoc"))
    for client, sub, sup in ((us, "marforj", "jjoc"), (jp, "jgsdf-gcc", "usfj")):
        for kind in ("OPCON", "TACON", "ORGANIC"):
            body = {"label": "U", "from_unit": sub, "to_unit": sup, "kind": kind}
            r = client.post("/api/v1/orbat/relations", json=body)
            assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
            problem = r.json()
            assert problem["code"] == "command_across_chains"
            assert "COORDINATION" in problem["reason"]["en"] and "調整" in problem["reason"]["ja"]
    assert all(
        not r["command"] or r["from_unit"] != "marforj" or r["to_unit"] == "usfj"
        for r in ok(us.get("/api/v1/orbat/relations"))
    )

    # A peer that sends one anyway (USFJ's end of the link, hand-built) is refused at receipt.
    link = peer_client(nodes.procs["usfj"].dir, nodes.procs["jjoc"].dir)
    before = metric(
        jp, "kizuna_federation_violations_total", peer="usfj", reason="command_across_chains"
    )
    forged = Event(
        origin="usfj",
        seq=next(_seq),
        hlc=pack(int(time.time() * 1000), 0),
        record_type="unit_relation",
        record_id="forged-opcon",
        op="create",
        label=parse_label("UNCLASSIFIED", originator="USA"),
        precedence=Precedence.ROUTINE,
        payload={
            "from_unit": "jgsdf-gcc",
            "to_unit": "usfj",
            "kind": "OPCON",
            "valid_from": 0.0,
            "valid_to": None,
            "from_nation": "JPN",
            "to_nation": "USA",
            "from_node": "usfj",
            "to_node": "usfj",
        },
        author="mallory",
    )
    ack = post_batch(link, "events", [forged])
    assert ack["refused"] == 1 and ack["applied"] == 0
    assert jp.get("/api/v1/orbat/relations/forged-opcon").status_code == 404
    after = metric(
        jp, "kizuna_federation_violations_total", peer="usfj", reason="command_across_chains"
    )
    assert after == before + 1


def test_aus_sees_only_what_is_releasable_to_aus(nodes: Nodes) -> None:
    jp, us, au = nodes.jp, nodes.us, nodes.au
    unit = {
        "id": "bi-cell",
        "label": BI,
        "name": {"en": "Bilateral planning cell", "ja": ""},
        "sidc": "10031000001100000000",
        "echelon": "section",
    }
    ok(us.post("/api/v1/orbat/units", json=unit), 201)
    ok(
        us.post(
            "/api/v1/orbat/relations",
            json={
                "id": "rel-bi-cell",
                "label": BI,
                "from_unit": "bi-cell",
                "to_unit": "usfj",
                "kind": "ORGANIC",
            },
        ),
        201,
    )
    # A later UNCLASSIFIED unit: once AUS has it, AUS has had its chance at the cell.
    marker = {**unit, "id": "marker", "label": "UNCLASSIFIED", "name": {"en": "Marker"}}
    ok(us.post("/api/v1/orbat/units", json=marker), 201)
    wait("the cell on JJOC", lambda: has(jp, "/api/v1/orbat/relations/rel-bi-cell"))
    wait("the marker on AUS", lambda: has(au, "/api/v1/orbat/units/marker"))
    wait("the seed's AUS edge", lambda: has(au, "/api/v1/orbat/relations/coord-adf-jjoc"))
    assert au.get("/api/v1/orbat/units/bi-cell").status_code == 404
    assert au.get("/api/v1/orbat/relations/rel-bi-cell").status_code == 404
    au_units = {u["id"] for u in ok(au.get("/api/v1/orbat/units"))}
    assert {"jjoc", "usfj", "adf-jp", "marker"} <= au_units and "bi-cell" not in au_units
    tree_ids = {t["unit"]["id"] for t in ok(au.get("/api/v1/orbat/tree"))["units"]}
    assert "bi-cell" not in tree_ids and "jasdf-space" in tree_ids
    export = ok(au.get("/api/v1/orbat/export"))
    assert "bi-cell" not in {u["id"] for u in export["units"]}
    assert "rel-bi-cell" not in {r["id"] for r in export["relations"]}
    # An Australian reader on USFJ's own node is kept out by the release check on read.
    au_on_us = user(nodes.procs["usfj"], "au.visitor", "AUS")
    assert au_on_us.get("/api/v1/orbat/units/bi-cell").status_code == 404
    assert "bi-cell" not in {
        t["unit"]["id"] for t in ok(au_on_us.get("/api/v1/orbat/tree"))["units"]
    }
    jp_tree = {t["unit"]["id"]: t for t in ok(jp.get("/api/v1/orbat/tree"))["units"]}
    assert jp_tree["bi-cell"]["parent"] == "usfj"


def test_task_organisation_as_of_a_past_date_after_resubordination(nodes: Nodes) -> None:
    jp, us = nodes.jp, nodes.us
    meu = {
        "id": "31meu",
        "label": "U",
        "name": {"en": "31st Marine Expeditionary Unit"},
        "sidc": "10031000001211000000",
        "echelon": "battalion",
    }
    ok(us.post("/api/v1/orbat/units", json=meu), 201)
    ok(
        us.post(
            "/api/v1/orbat/relations",
            json={
                "id": "rel-31meu",
                "label": "U",
                "from_unit": "31meu",
                "to_unit": "marforj",
                "kind": "ORGANIC",
                "valid_from": "2026-02-01T00:00:00Z",
            },
        ),
        201,
    )
    moved = ok(
        us.post(
            "/api/v1/orbat/units/31meu/resubordinate",
            json={"to_unit": "cnfj", "kind": "OPCON", "label": "U", "at": "2026-06-01T00:00:00Z"},
        )
    )
    assert moved[0]["valid_to"] == "2026-06-01T00:00:00.000Z"
    new_id = moved[1]["id"]
    wait(
        "the re-subordination on JJOC",
        lambda: (
            has(jp, f"/api/v1/orbat/relations/{new_id}")
            and jp.get("/api/v1/orbat/relations/rel-31meu").json()["valid_to"]
        ),
    )
    for client in (us, jp):

        def at(when: str, c: httpx.Client = client) -> dict[str, Any]:
            tree = ok(c.get("/api/v1/orbat/tree", params={"at": when}))
            return {t["unit"]["id"]: t for t in tree["units"]}

        march, july = at("2026-03-01T00:00:00Z"), at("2026-07-01T00:00:00Z")
        assert march["31meu"]["parent"] == "marforj"
        assert march["31meu"]["relation"]["kind"] == "ORGANIC"
        assert july["31meu"]["parent"] == "cnfj" and july["31meu"]["relation"]["kind"] == "OPCON"
        assert "31meu" not in july["marforj"]["children"]
        assert at("2025-12-01T00:00:00Z")["31meu"]["parent"] is None
    r = us.get("/api/v1/orbat/tree", params={"at": "yesterday"})
    assert (r.status_code, r.headers["content-type"]) == (400, PROBLEM)


def test_export_then_import_into_a_fresh_node(nodes: Nodes, tmp_path: Path) -> None:
    us = nodes.us
    wait(
        "the coordination edge on USFJ", lambda: has(us, "/api/v1/orbat/relations/coord-jjoc-usfj")
    )
    exported = ok(us.get("/api/v1/orbat/export"))
    assert exported["format"] == "kizuna-orbat" and exported["version"] == 1
    doc = tmp_path / "orbat.json"
    doc.write_text(json.dumps(exported, ensure_ascii=False))
    fresh = init(tmp_path / "fresh", "usfj-dr", "USA")
    cli("orbat", "import", "--dir", str(fresh), str(doc))
    again = json.loads(cli("orbat", "export", "--dir", str(fresh), "--to", "USA"))

    def same(d: dict[str, Any], key: str) -> list[dict[str, Any]]:
        return sorted(
            ({k: v for k, v in x.items() if k != "origin"} for x in d[key]), key=lambda x: x["id"]
        )

    assert same(again, "units") == same(exported, "units")
    assert same(again, "relations") == same(exported, "relations")
    kinds = {r["kind"] for r in again["relations"]}
    assert {"COORDINATION", "OPCON", "ORGANIC"} <= kinds
    assert len(again["units"]) >= 12

    # A document with a command edge across the chains is refused whole: nothing applied.
    bad = {
        "format": "kizuna-orbat",
        "version": 1,
        "units": [{**exported["units"][0], "id": "stray", "nation": "USA"}],
        "relations": [
            {
                "id": "stray-opcon",
                "label": "U",
                "from_unit": "stray",
                "to_unit": "jjoc",
                "kind": "OPCON",
                "valid_from": "2026-01-01T00:00:00Z",
            }
        ],
    }
    r = us.post("/api/v1/orbat/import", json=bad)
    assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
    assert r.json()["reason"]["ja"]
    assert us.get("/api/v1/orbat/units/stray").status_code == 404
