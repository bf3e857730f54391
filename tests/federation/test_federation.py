"""Federation between real node processes over loopback: labels, cuts, crashes, thin links."""

from __future__ import annotations

import random
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from kizuna.core.labels import Classification, GroupRegistry, parse_label
from kizuna.core.release import make_principal, may_release
from tests.cluster import Cluster
from tests.nodes import kizuna

NATIONS = {"usfj": "USA", "jjoc": "JPN", "aus": "AUS"}
GROUPS = GroupRegistry({"ACM": ["USA", "JPN"]})  # what `kizuna init` defines by default
MARKINGS = [
    "U",
    "C//REL TO USA, JPN",
    "S//REL TO USA, JPN",
    "S//REL TO USA, AUS, JPN",
    "S//NOFORN",
    "S//REL TO FVEY",
    "S//REL TO ACM",
    "C//REL TO USA, AUS",
    "S//REL TO AUS, JPN",
    "S",
]


def wait_until(check: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def write_reports(client: httpx.Client, markings: list[str], tag: str) -> list[str]:
    ids = []
    for i, marking in enumerate(markings):
        r = client.post(
            "/api/v1/reports",
            json={"label": marking, "title": {"en": f"{tag} {i}", "ja": f"{tag} {i}"}},
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def titles(client: httpx.Client) -> list[str]:
    return [x["title"]["en"] for x in client.get("/api/v1/reports").json()]


def digests_equal(a: httpx.Client, b: httpx.Client, a_id: str, b_id: str) -> bool:
    da = a.get("/federation/v1/digest", params={"peer": b_id}).json()
    db = b.get("/federation/v1/digest", params={"peer": a_id}).json()
    return bool(da["digest"] == db["digest"])


def test_each_node_holds_exactly_what_its_nation_may_see(cluster: Cluster) -> None:
    for node_id, nation in NATIONS.items():
        cluster.node(node_id, nation)
    for a, b in (("usfj", "jjoc"), ("usfj", "aus"), ("jjoc", "aus")):
        cluster.link(a, b)
    cluster.start()
    writers = {nid: n.user(f"w-{nid}", NATIONS[nid], "SECRET") for nid, n in cluster.nodes.items()}
    rnd = random.Random(7)
    plan = {nid: [rnd.choice(MARKINGS) for _ in range(1000)] for nid in NATIONS}
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda nid: write_reports(writers[nid], plan[nid], nid), NATIONS))

    # What each node must hold: its own records plus others' releasable to its nation.
    expected: dict[str, set[str]] = {nid: set() for nid in NATIONS}
    for origin, markings in plan.items():
        for i, marking in enumerate(markings):
            label = parse_label(marking, originator=NATIONS[origin], groups=GROUPS)
            for holder, nation in NATIONS.items():
                peer = make_principal(nation, Classification.SECRET, registry=GROUPS)
                if holder == origin or may_release(label, peer):
                    expected[holder].add(f"{origin} {i}")
    auditors = {
        nid: n.user(f"a-{nid}", NATIONS[nid], "TOP SECRET") for nid, n in cluster.nodes.items()
    }
    for nid, client in auditors.items():
        wait_until(lambda c=client, n=nid: len(titles(c)) >= len(expected[n]), 120, f"{nid} sync")
    for nid, client in auditors.items():
        got = titles(client)
        assert len(got) == len(set(got)), f"{nid} holds duplicates"
        assert set(got) == expected[nid], f"{nid} holds the wrong set"
    # Foreign users on a node see only what is releasable to them.
    jpn_on_aus = cluster.nodes["aus"].user("kenji", "JPN", "SECRET")
    for item in jpn_on_aus.get("/api/v1/reports").json():
        label = parse_label(item["label"], originator=item["originator"], groups=GROUPS)
        assert may_release(label, make_principal("JPN", Classification.SECRET, registry=GROUPS))
    for a, b in (("usfj", "jjoc"), ("usfj", "aus"), ("jjoc", "aus")):
        assert digests_equal(auditors[a], auditors[b], a, b)


def test_cut_link_converges_after_heal(cluster: Cluster) -> None:
    cluster.node("usfj", "USA")
    cluster.node("jjoc", "JPN")
    cluster.link("usfj", "jjoc", proxied=True)
    cluster.start()
    us = cluster.nodes["usfj"].user("alice", "USA", "SECRET")
    jp = cluster.nodes["jjoc"].user("kenji", "JPN", "SECRET")
    write_reports(us, ["S//REL TO USA, JPN"] * 5, "before")
    wait_until(lambda: len(titles(jp)) == 5, what="initial sync")
    for pair in (("usfj", "jjoc"), ("jjoc", "usfj")):
        cluster.proxy(*pair).cut()
    rnd = random.Random(3)
    with ThreadPoolExecutor(2) as pool:
        pool.submit(write_reports, us, [rnd.choice(MARKINGS[:4]) for _ in range(500)], "us")
        pool.submit(write_reports, jp, [rnd.choice(MARKINGS[:4]) for _ in range(500)], "jp")
    assert len(titles(jp)) < 1005  # nothing crossed the cut link
    for pair in (("usfj", "jjoc"), ("jjoc", "usfj")):
        cluster.proxy(*pair).heal()
    wait_until(lambda: digests_equal(us, jp, "usfj", "jjoc"), 60, "digests equal")
    a, b = titles(us), titles(jp)
    assert len(a) == len(set(a)) == 1005 and sorted(a) == sorted(b)


def test_kill_9_mid_batch_then_restart(cluster: Cluster) -> None:
    cluster.node("usfj", "USA")
    cluster.node("jjoc", "JPN")
    cluster.link("usfj", "jjoc", proxied=True)
    cluster.start()
    us = cluster.nodes["usfj"].user("alice", "USA", "SECRET")
    jp = cluster.nodes["jjoc"].user("kenji", "JPN", "SECRET")
    cluster.proxy("usfj", "jjoc").throttle(256_000)  # slow enough to catch batches in flight
    write_reports(us, ["S//REL TO USA, JPN"] * 400, "us")
    wait_until(lambda: 0 < len(titles(jp)) < 400, 60, "replication under way")
    cluster.nodes["usfj"].kill9()
    cluster.nodes["jjoc"].kill9()
    cluster.proxy("usfj", "jjoc").throttle(None)
    cluster.nodes["usfj"].start()
    cluster.nodes["jjoc"].start()
    jp2 = httpx.Client(base_url=cluster.nodes["jjoc"].url, headers=jp.headers, timeout=30)
    us2 = httpx.Client(base_url=cluster.nodes["usfj"].url, headers=us.headers, timeout=30)
    write_reports(jp2, ["S//REL TO USA, JPN"] * 20, "jp")
    wait_until(lambda: digests_equal(us2, jp2, "usfj", "jjoc"), 60, "digests equal")
    a, b = titles(us2), titles(jp2)
    assert len(a) == len(set(a)) == 420 and sorted(a) == sorted(b)


def test_flash_overtakes_routine_backlog_on_thin_link(cluster: Cluster) -> None:
    cluster.node("usfj", "USA")
    cluster.node("jjoc", "JPN")
    cluster.link("usfj", "jjoc", proxied=True)
    cluster.start()
    us = cluster.nodes["usfj"].user("alice", "USA", "SECRET")
    jp = cluster.nodes["jjoc"].user("kenji", "JPN", "SECRET")
    proxy = cluster.proxy("usfj", "jjoc")
    proxy.cut()
    # 10,000 ROUTINE reports queued while cut, written in batches (one user's individual
    # writes at this pace would meet the node's per-user rate limit).
    for k in range(10):
        body = [
            {
                "label": "S//REL TO USA, JPN",
                "title": {"en": f"routine-{k} {i}", "ja": f"定常-{k} {i}"},
            }
            for i in range(1000)
        ]
        r = us.post("/api/v1/reports/batch", json=body)
        assert r.status_code == 201, r.text
    r = us.post(
        "/api/v1/reports",
        json={
            "label": "S//REL TO USA, JPN",
            "precedence": "FLASH",
            "title": {"en": "FLASH tsunami", "ja": "緊急 津波"},
        },
    )
    assert r.status_code == 201
    proxy.throttle(64_000)
    proxy.heal()
    healed = time.monotonic()
    wait_until(lambda: "FLASH tsunami" in titles(jp), 30, "FLASH delivered")
    took = time.monotonic() - healed
    order = titles(jp)  # newest first by HLC; the FLASH was written last
    assert order[0] == "FLASH tsunami"
    # It arrived before any of the 10,000 ROUTINE reports queued ahead of it, or with
    # only the first small batch that was already on the wire.
    assert len(order) < 200, f"{len(order) - 1} ROUTINE reports arrived with it"
    assert took < 15


def test_unknown_certificate_can_neither_push_nor_pull(cluster: Cluster, tmp_path: Path) -> None:
    cluster.node("usfj", "USA")
    cluster.node("jjoc", "JPN")
    rogue = cluster.node("rogue", "USA")
    cluster.link("usfj", "jjoc")
    cluster.nodes.pop("rogue")
    cluster.start()
    fed = kizuna("node", "info", "--dir", str(cluster.nodes["usfj"].dir)).stdout
    port = int(fed.split('"federation_url": "https://127.0.0.1:')[1].split('"')[0])
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(str(rogue.dir / "node.pem"), str(rogue.dir / "node.key"))
    for method, path in (
        ("POST", "/federation/v1/events"),
        ("GET", "/federation/v1/digest?peer=rogue"),
    ):
        with (
            pytest.raises((httpx.HTTPError, ssl.SSLError, OSError)),
            httpx.Client(verify=ctx) as c,
        ):
            c.request(method, f"https://127.0.0.1:{port}{path}", content=b"x").raise_for_status()
    log = (cluster.nodes["usfj"].dir / "node.log").read_text()
    assert "federation_tls" in log and "refused" in log


def test_a_tak_certificate_from_a_peers_ca_fails_the_federation_handshake(
    cluster: Cluster, tmp_path: Path
) -> None:
    """Issue 17, finding 10: the peer's CA signs its TAK clients too; only the peer's pinned
    node certificate may open the federation port, refused as ``federation_tls``."""
    cluster.node("usfj", "USA")
    cluster.node("jjoc", "JPN")
    cluster.link("usfj", "jjoc")
    cluster.start()
    jjoc = cluster.nodes["jjoc"].dir
    out = kizuna(
        "tak",
        "client-cert",
        "--dir",
        str(jjoc),
        "--name",
        "tak-1",
        "--nation",
        "JPN",
        "--clearance",
        "SECRET",
        "--out",
        str(tmp_path / "tak"),
    ).stdout
    paths = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    fed = kizuna("node", "info", "--dir", str(cluster.nodes["usfj"].dir)).stdout
    port = int(fed.split('"federation_url": "https://127.0.0.1:')[1].split('"')[0])
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(paths["cert"], paths["key"])
    with (
        pytest.raises((httpx.HTTPError, ssl.SSLError, OSError)),
        httpx.Client(verify=ctx) as c,
    ):
        c.get(f"https://127.0.0.1:{port}/federation/v1/digest?peer=jjoc").raise_for_status()
    log_file = cluster.nodes["usfj"].dir / "node.log"
    wait_until(lambda: "federation_tls" in log_file.read_text(), 10, "the refusal logged")
    assert "federation_unknown_peer" not in log_file.read_text()


def test_tracks_ride_the_track_stream_under_the_release_check(cluster: Cluster) -> None:
    """The picture's tracks reach a peer through its `track` stream: what the peer's nation
    may see arrives, with the delivering node in its provenance, and goes no further back."""
    cluster.node("usfj", "USA")
    cluster.node("jjoc", "JPN")
    cluster.link("usfj", "jjoc")
    cluster.start()
    us = cluster.nodes["usfj"].user("alice", "USA", "SECRET")
    jp = cluster.nodes["jjoc"].user("kenji", "JPN", "SECRET")
    reports = [
        {"label": "S//REL TO USA, JPN", "lat": 35.1, "lon": 139.7, "id": "ddg-1"},
        {"label": "S//NOFORN", "lat": 35.2, "lon": 139.8, "id": "ssn-1"},
    ]
    r = us.post("/api/v1/tracks", json=reports)
    assert r.status_code == 200, r.text

    def ids(client: httpx.Client) -> list[str]:
        return sorted(t["id"] for t in client.get("/api/v1/tracks").json())

    wait_until(lambda: "ddg-1" in ids(jp), 30, "track delivered")
    time.sleep(2)  # more link rounds: the NOFORN track must stay home
    # A USA user on jjoc would see the NOFORN track had it arrived there.
    assert ids(cluster.nodes["jjoc"].user("audit", "USA", "TOP SECRET")) == ["ddg-1"]
    track = jp.get("/api/v1/tracks/ddg-1").json()
    assert [s["connection"] for s in track["sources"]] == ["federation:usfj"]
    # usfj still holds its own observation, not one echoed back from jjoc.
    ours = us.get("/api/v1/tracks/ddg-1").json()
    assert [s["connection"] for s in ours["sources"]] == ["api:alice"]
