"""`make run`: a three-node demo federation (USFJ, JJOC, Australia) with a seeded scenario.

Nodes live in ./demo (kept between runs). Each runs as its own `kizuna serve`
process; a small simulator feeds moving tracks to each node's CoT port, so the
picture is live. Everything goes through the real paths: CLI, HTTP API, CoT, federation.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from kizuna.kernel.config import NodeDir
from kizuna.scenario import exercises as scenario_exercises
from kizuna.scenario import facilities as scenario_facilities
from kizuna.scenario import orbat as scenario_orbat
from kizuna.scenario import workgroups as scenario_workgroups

PASSWORD = "kizuna-demo"
NODES = [  # node id, nation, port offset
    ("usfj", "USA", 0),
    ("jjoc", "JPN", 100),
    ("aus", "AUS", 200),
]
USERS: dict[str, list[tuple[str, str, str, list[str], list[str]]]] = {
    # node -> (name, nation, clearance, roles, groups)
    "usfj": [
        ("us.watch", "USA", "SECRET", ["watch", "exercise_control"], []),
        ("jp.liaison", "JPN", "SECRET", ["liaison"], ["ACM"]),
    ],
    "jjoc": [
        ("jp.watch", "JPN", "SECRET", ["watch"], ["ACM"]),
        ("us.liaison", "USA", "SECRET", ["liaison"], ["ACM"]),
        ("jp.admin", "JPN", "SECRET", ["admin"], ["ACM"]),
    ],
    "aus": [("au.watch", "AUS", "SECRET", ["watch"], [])],
}


# The `kizuna` commands run in this process: one interpreter start-up for all of them (each
# its own would cost about 1 s of CPU, most of it imports), so one at a time (CliRunner
# swaps sys.stdout).
_WORKERS = 1


def _cli(*args: str) -> str:
    from typer.testing import CliRunner

    from kizuna.cli import build

    out = CliRunner().invoke(build(), list(args))
    if out.exit_code != 0:
        why = out.output + (repr(out.exception) if out.exception else "")
        raise SystemExit(f"kizuna {' '.join(args)} failed:\n{why}")
    return out.stdout


def _shared_data() -> Path:
    default = Path(__file__).resolve().parents[3] / "shared" / "data"
    return Path(os.environ.get("KIZUNA_SHARED_DATA", default))


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def create(root: Path, base: int) -> None:
    """The three nodes through the CLI: each node's own chain of commands in parallel with
    the others' (one command at a time per node directory), then the peering."""
    with ThreadPoolExecutor(_WORKERS) as pool:
        list(pool.map(lambda n: _set_up(root, base, *n), NODES))
        certs = dict(
            zip(
                [n for n, _, _ in NODES],
                pool.map(lambda n: _cli("node", "cert", "--dir", str(root / n[0])), NODES),
                strict=True,
            )
        )
        list(pool.map(lambda n: _link(root, base, n[0], certs), NODES))


def _link(root: Path, base: int, a: str, certs: dict[str, str]) -> None:
    """Node ``a`` learns its two peers (USFJ first ingests its AIS sensors' log)."""
    if a == "usfj":
        ais = demo_ais(root / "demo-ais.nmea", time.time())
        _cli("ingest", "ais", str(ais), "--dir", str(root / a), "--label", "S//REL TO USA, JPN")
    for b, nation, offset in NODES:
        if a == b:
            continue
        cert = root / a / "peers" / f"{b}.import.pem"
        cert.write_text(certs[b])
        _cli(
            "peer",
            "add",
            "--dir",
            str(root / a),
            "--peer-id",
            b,
            "--nation",
            nation,
            "--url",
            f"https://127.0.0.1:{base + offset + 1}",
            "--cert",
            str(cert),
        )
        cert.unlink()


def _set_up(root: Path, base: int, node_id: str, nation: str, offset: int) -> None:
    """One node: `kizuna init`, the simulator's TAK certificate, settings, users."""
    facilities = _shared_data() / "reference" / "facilities.csv"
    d = root / node_id
    port = base + offset
    _cli(
        "init",
        "--dir",
        str(d),
        "--node-id",
        node_id,
        "--nation",
        nation,
        "--port",
        str(port),
        "--cot-port",
        str(port + 87),
        "--cot-tls-port",
        str(port + 89),
    )
    # The simulator is a cleared TAK client of each node: a certificate from its CA.
    _cli(
        "tak",
        "client-cert",
        "--dir",
        str(d),
        "--name",
        f"SIM-{node_id}",
        "--nation",
        nation,
        "--clearance",
        "SECRET",
        "--out",
        str(root / "sim" / node_id),
    )
    nd = NodeDir(d)
    cfg = nd.load()
    if facilities.exists():
        cfg.plugins["facilities"] = {"csv": str(facilities.resolve())}
    glossary = _shared_data() / "reference" / "glossary.csv"
    if glossary.exists():  # the liaison workspace's term hints
        cfg.plugins["liaison"] = {"glossary": str(glossary.resolve())}
    jma = _shared_data() / "jma"
    if node_id == "jjoc" and jma.is_dir():  # JJOC watches the JMA bulletins (HADR)
        cfg.plugins["alerts"] = {"watch_dir": str(jma.resolve()), "watch_interval": 2.0}
    nd.save(cfg)
    for name, unation, clearance, roles, groups in USERS[node_id]:
        args = [
            "user",
            "add",
            "--dir",
            str(d),
            "--name",
            name,
            "--nation",
            unation,
            "--clearance",
            clearance,
            "--password",
            PASSWORD,
        ]
        for r in roles:
            args += ["--role", r]
        for g in groups:
            args += ["--group", g]
        _cli(*args)


def _sentence(mmsi: int, t: float, lat: float, lon: float, speed: float = 10.0) -> str:
    import pyais

    from kizuna.sources.ais.nmea import checksum

    data: dict[str, str | int | float | bytes | bool] = {
        "type": 1,
        "mmsi": mmsi,
        "lat": lat,
        "lon": lon,
        "speed": speed,
        "course": 0.0,
    }
    text = pyais.encode_dict(data, talker_id="AI", sentence_type="VDM")[0]
    tag = f"s:demo,c:{int(t)}".encode()
    return f"\\{tag.decode()}*{checksum(tag):02X}\\{text}"


# Two vessels that meet and drift together far off the Boso peninsula (MDA: loitering, and
# an encounter, a possible ship-to-ship transfer).
MEETING = (352_001_303, 636_012_404)


def demo_ais(path: Path, now: float) -> Path:
    """Nine hours of AIS off the Boso peninsula up to now, a report every 10 minutes: two
    vessels at 10 kn, one falling silent for 7 h (an MDA gap on USFJ's own sensors), and two
    that lie 200 m apart at half a knot for the last 4 h (loitering, an encounter)."""
    start = now - 9 * 3600
    lines = []
    for step in range(55):
        t = start + step * 600
        lines.append(_sentence(431_000_101, t, 34.60 + step * 0.0278, 140.30))
        if step <= 6 or step >= 49:
            lines.append(_sentence(431_000_202, t, 34.70 + step * 0.0278, 140.50))
        if step >= 30:  # the last 4 h: drifting north together, about 0.5 kn
            drift = (step - 30) * 0.00014
            lines.append(_sentence(MEETING[0], t, 34.40 + drift, 140.90, 0.5))
            lines.append(_sentence(MEETING[1], t, 34.40 + drift, 140.9022, 0.4))
    path.write_text("\n".join(lines) + "\n")
    return path


def login(url: str, name: str) -> httpx.Client:
    r = httpx.post(f"{url}/api/v1/login", json={"name": name, "password": PASSWORD}, timeout=30)
    r.raise_for_status()
    return httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {r.json()['token']}"}, timeout=30
    )


REPORTS = [
    (
        "usfj",
        "us.watch",
        "S//REL TO USA, JPN",
        "Typhoon 24 track shifts toward Okinawa",
        "台風24号、沖縄方面へ進路変更",
        "PRIORITY",
    ),
    (
        "usfj",
        "us.watch",
        "C//REL TO USA, AUS, JPN",
        "Exercise Resolute Dragon logistics sync",
        "レゾリュート・ドラゴン演習 兵站調整",
        "ROUTINE",
    ),
    (
        "usfj",
        "us.watch",
        "S//NOFORN",
        "USFJ internal readiness note",
        "在日米軍 内部準備態勢メモ",
        "ROUTINE",
    ),
    (
        "jjoc",
        "jp.watch",
        "S//REL TO USA, JPN",
        "JJOC: maritime patrol schedule East China Sea",
        "統合作戦司令部：東シナ海 哨戒計画",
        "IMMEDIATE",
    ),
    (
        "jjoc",
        "jp.watch",
        "U",
        "Disaster relief dispatch request from Kagoshima Prefecture",
        "鹿児島県からの災害派遣要請",
        "FLASH",
    ),
    (
        "aus",
        "au.watch",
        "C//REL TO USA, AUS, JPN",
        "HMAS Brisbane arriving Yokosuka 25 Nov",
        "豪艦ブリスベン 11月25日 横須賀入港",
        "ROUTINE",
    ),
    (
        "aus",
        "au.watch",
        "S//REL TO FVEY",
        "FVEY maritime picture summary",
        "ファイブアイズ 海洋状況 要約",
        "ROUTINE",
    ),
]


def seed(urls: dict[str, str]) -> None:
    clients: dict[tuple[str, str], httpx.Client] = {}
    for node_id, name, label, en, ja, prec in REPORTS:
        c = clients.setdefault((node_id, name), login(urls[node_id], name))
        c.post(
            "/api/v1/reports",
            json={
                "label": label,
                "precedence": prec,
                "title": {"en": en, "ja": ja},
                "body": {"en": en, "ja": ja},
                "position": {"lat": 26.3, "lon": 127.8},
            },
        ).raise_for_status()
    us = clients[("usfj", "us.watch")]
    r = us.post(
        "/api/v1/requests",
        json={
            "addressees": ["jjoc"],
            "kind": "facility_access",
            "precedence": "IMMEDIATE",
            "label": "SECRET//REL TO USA, JPN",
            "title": {
                "en": "Use of JMSDF Kure pier for HADR staging",
                "ja": "人道支援・災害救援 集結のための呉岸壁使用",
            },
            "body": {
                "en": "Request pier access 26-28 Nov for relief supplies.",
                "ja": "救援物資のため11月26日〜28日の岸壁使用を要請。",
            },
        },
    )
    r.raise_for_status()
    us.post(f"/api/v1/requests/{r.json()['id']}/transitions", json={"to": "SUBMITTED"})
    jp = clients[("jjoc", "jp.watch")]
    r = jp.post(
        "/api/v1/requests",
        json={
            "addressees": ["usfj"],
            "kind": "information",
            "precedence": "PRIORITY",
            "label": "CONFIDENTIAL//REL TO USA, JPN",
            "title": {"en": "", "ja": "普天間 回転翼機 運航計画の共有"},
            "body": {"en": "", "ja": "災害派遣期間中の運航計画を共有願う。"},
        },
    )
    r.raise_for_status()
    jp.post(f"/api/v1/requests/{r.json()['id']}/transitions", json={"to": "SUBMITTED"})
    au = clients.setdefault(("aus", "au.watch"), login(urls["aus"], "au.watch"))
    seed_hadr(jp, us, au)
    seed_mda(jp, us)
    # Each later domain seeds its part through the API (src/kizuna/scenario/).
    for part in (scenario_facilities, scenario_exercises, scenario_orbat, scenario_workgroups):
        part.seed(jp, us, au)


def seed_mda(jp: httpx.Client, us: httpx.Client) -> None:
    """A zone and a watchlist entry; JJOC's verdict on USFJ's gap once it has it."""
    jp.post(
        "/api/v1/mda/zones",
        json={
            "label": "S//REL TO USA, JPN",
            "name": {"en": "Off Katsuura", "ja": "勝浦沖"},
            "polygon": [[35.2, 140.2], [35.2, 140.6], [35.5, 140.6], [35.5, 140.2]],
        },
    ).raise_for_status()
    us.post(
        "/api/v1/mda/watchlist",
        json={"label": "S//REL TO USA, JPN", "mmsi": 431_000_202, "reason": "AIS gaps"},
    ).raise_for_status()
    gaps = _until(lambda: jp.get("/api/v1/mda/events", params={"type": "gap"}).json())
    jp.post(
        f"/api/v1/mda/events/{gaps[0]['id']}/verdict",
        json={"verdict": "confirmed", "note": "No JMSDF contact in the area either."},
    ).raise_for_status()


def _until(probe: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.3)
    raise SystemExit("the demo's HADR scenario did not federate in time; see the node logs")


# The incident the HADR story hangs on: the major tsunami warning of 11 March 2011 (the
# Great East Japan Earthquake, Operation Tomodachi), the last bulletin of the folder JJOC
# watches, so it heads the incident list. Another folder: its largest earthquake.
STORY_INCIDENT = "jma-20110311144640"
SHELTER = {  # Ishinomaki, Miyagi: a city the 2011 tsunami struck
    "name": {"en": "Ishinomaki General Gymnasium", "ja": "石巻市総合体育館"},
    "municipality": {"en": "Ishinomaki", "ja": "石巻市"},
    "municipality_code": "04202",
    "position": {"lat": 38.4339, "lon": 141.2898},
}
POPULATION = 2_000  # sheltering: more than the gymnasium holds at night


def _story_incident(jp: httpx.Client) -> dict[str, Any]:
    """The story's incident once JJOC's folder watch has ingested it (or, from another
    folder, the largest earthquake once the watch has gone through it all)."""
    seen: list[int] = []

    def probe() -> dict[str, Any] | None:
        incidents = jp.get("/api/v1/incidents").json()
        for i in incidents:
            if i["id"] == STORY_INCIDENT:
                return dict(i)
        seen.append(len(incidents))
        quakes = [i for i in incidents if i["hypocentre"] and i["magnitude"]]
        if quakes and len(seen) > 10 and len(set(seen[-10:])) == 1:  # 3 s without news
            return dict(max(quakes, key=lambda i: i["magnitude"].get("value") or 0))
        return None

    return dict(_until(probe, timeout=60.0))


def seed_hadr(jp: httpx.Client, us: httpx.Client, au: httpx.Client) -> None:
    """An incident from the JMA bulletins JJOC watches: an over-full shelter, a water RFA
    (Sphere figures) with offers from USFJ and AUS (USFJ's accepted, AUS's waiting for
    JJOC), a second RFA (food) waiting for validation, capabilities, a stock and a first
    SITREP."""
    incident = _story_incident(jp)
    iid = incident["id"]
    shelter = jp.post(
        "/api/v1/shelters",
        json={
            "label": "UNCLASSIFIED",
            **SHELTER,
            "capacity_day": 1_800,
            "capacity_night": 1_500,
            "population_day": POPULATION,
            "population_night": POPULATION,
            "availability": "open",
            "incident_id": iid,
        },
    )
    shelter.raise_for_status()
    site = {"id": shelter.json()["id"], "name": shelter.json()["name"]}
    jp.post(
        "/api/v1/relief-plans", json={"label": "UNCLASSIFIED", "incident_id": iid, "mode": "push"}
    ).raise_for_status()
    jp.post(
        "/api/v1/stocks",
        json={
            "label": "UNCLASSIFIED",
            "site_id": "sendai-depot",
            "site_name": {"en": "Sendai relief depot", "ja": "仙台 救援物資集積所"},
            "position": {"lat": 38.2682, "lon": 140.8694},
            "item": "blanket",
            "packs": 2_000,
            "incident_id": iid,
        },
    ).raise_for_status()
    for client, code, quantity, unit, label in (
        (us, "airlift_sortie", 6, "36th Airlift Squadron", "C//REL TO USA, JPN"),
        (us, "water_production", 200, "35th Combat Support Co", "U"),
        (au, "water_production", 150, "1st Combat Engineer Regiment", "U"),
    ):
        client.post(
            "/api/v1/capabilities",
            json={"label": label, "code": code, "quantity": quantity, "unit_name": unit},
        ).raise_for_status()
    needs = jp.post("/api/v1/needs", json={"population": POPULATION, "days": 3})
    needs.raise_for_status()
    drafted = {
        line["item"]: {k: line[k] for k in ("item", "kind", "description", "quantity", "unit")}
        for line in needs.json()["lines"]
    }
    rid = _rfa(
        jp,
        iid,
        site,
        {"en": "Drinking water for the gymnasium shelter", "ja": "体育館避難所の飲料水"},
        [drafted["water"]],
        ({"to": "SUBMITTED"}, {"to": "VALIDATED", "priority": "high"}, {"to": "OPEN"}),
    )
    _rfa(
        jp,
        iid,
        site,
        {"en": "Food for the gymnasium shelter", "ja": "体育館避難所の食料"},
        [drafted["food"]],
        ({"to": "SUBMITTED"},),
    )
    _until(lambda: us.get(f"/api/v1/rfas/{rid}").status_code == 200)
    _until(lambda: au.get(f"/api/v1/rfas/{rid}").status_code == 200)
    water = float(drafted["water"]["quantity"])
    offers = {}
    for name, client, litres, unit in (
        ("usfj", us, round(water * 2 / 3), "35th Combat Support Co"),
        ("aus", au, round(water / 3), "1st Combat Engineer Regiment"),
    ):
        r = client.post(
            "/api/v1/offers",
            json={
                "rfa_id": rid,
                "lines": [{"item": "water", "kind": "item", "quantity": litres, "unit": "L"}],
                "capability": "water_production",
                "asset": unit,
                "unit": unit,
                "label": "UNCLASSIFIED",
            },
        )
        r.raise_for_status()
        offers[name] = r.json()["id"]
    _until(lambda: jp.get(f"/api/v1/offers/{offers['usfj']}").status_code == 200)
    jp.post(
        f"/api/v1/offers/{offers['usfj']}/transition", json={"to": "ACCEPTED"}
    ).raise_for_status()
    jp.post(
        f"/api/v1/incidents/{iid}/sitrep",
        json={"authorised_by": {"user": "jp.watch", "organisation": "JJOC"}},
    ).raise_for_status()


def _rfa(
    jp: httpx.Client,
    iid: str,
    site: dict[str, Any],
    title: dict[str, str],
    lines: list[dict[str, Any]],
    steps: tuple[dict[str, str], ...],
) -> str:
    """An RFA of the prefecture at the shelter, moved through ``steps`` by JJOC."""
    rfa = jp.post(
        "/api/v1/rfas",
        json={
            "incident_id": iid,
            "requesting_org": {"en": "Miyagi Prefecture", "ja": "宮城県災害対策本部"},
            "site": site,
            "title": title,
            "lines": lines,
            "label": "UNCLASSIFIED",
            "precedence": "IMMEDIATE",
        },
    )
    rfa.raise_for_status()
    rid = str(rfa.json()["id"])
    for step in steps:
        jp.post(f"/api/v1/rfas/{rid}/transition", json=step).raise_for_status()
    return rid


# Simulated units: (uid, callsign, cot type, label access, rel, lat, lon, speed m/s, course, owner)
UNITS = [
    ("USS-RR", "USS Ronald Reagan", "a-f-S-C", "SECRET", "USA,JPN", 34.9, 139.9, 8.0, 200, "usfj"),
    ("USS-ANT", "USS Antietam", "a-f-S-C", "SECRET", "USA,JPN", 34.7, 139.6, 7.0, 210, "usfj"),
    ("P8-1", "MADDOG 21", "a-f-A-M-F", "CONFIDENTIAL", "USA,AUS,JPN", 26.4, 127.8, 150, 30, "usfj"),
    ("JS-IZUMO", "JS Izumo", "a-f-S-C", "CONFIDENTIAL", "USA,JPN", 33.5, 135.5, 6.0, 250, "jjoc"),
    ("JS-KAGA", "JS Kaga", "a-f-S-C", "SECRET", "USA,JPN", 31.5, 130.0, 6.5, 170, "jjoc"),
    ("JGSDF-H1", "JGSDF UH-60J", "a-f-A-M-H", "UNCLASSIFIED", "", 31.6, 130.6, 60, 90, "jjoc"),
    (
        "HMAS-BNE",
        "HMAS Brisbane",
        "a-f-S-C",
        "CONFIDENTIAL",
        "USA,AUS,JPN",
        33.0,
        138.0,
        7.0,
        45,
        "aus",
    ),
    ("UNK-1", "Unknown vessel", "a-u-S", "SECRET", "USA,JPN", 30.5, 126.5, 5.0, 60, "jjoc"),
    ("FERRY-1", "Ferry Sakurajima", "a-n-S", "UNCLASSIFIED", "", 31.58, 130.6, 4.0, 120, "jjoc"),
]


def cot_xml(unit: tuple[Any, ...], t: float, elapsed: float) -> bytes:
    uid, callsign, ctype, access, rel, lat, lon, speed, course, _ = unit
    dist = speed * (elapsed % 3600)
    lat2 = lat + dist * math.cos(math.radians(course)) / 111_000
    lon2 = lon + dist * math.sin(math.radians(course)) / (111_000 * math.cos(math.radians(lat)))
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))
    stale = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t + 120))
    rel_attr = f' releaseableTo="{rel.replace(",", " ")}"' if rel else ""
    return (
        f'<event version="2.0" uid="{uid}" type="{ctype}" how="m-g" time="{now}" start="{now}" '
        f'stale="{stale}" access="{access}"{rel_attr}><point lat="{lat2:.5f}" lon="{lon2:.5f}" '
        f'hae="0" ce="10" le="10"/><detail><contact callsign="{callsign}"/>'
        f'<track course="{course}" speed="{speed}"/></detail></event>'
    ).encode()


def _tls(root: Path, node_id: str) -> ssl.SSLContext:
    d = root / "sim" / node_id
    ctx = ssl.create_default_context(cafile=str(d / "ca.pem"))
    ctx.load_cert_chain(str(d / f"SIM-{node_id}.pem"), str(d / f"SIM-{node_id}.key"))
    return ctx


def simulate(root: Path, cot_ports: dict[str, int], stop: threading.Event) -> None:
    socks: dict[str, socket.socket] = {}
    contexts = {node_id: _tls(root, node_id) for node_id in cot_ports}
    start = time.time()
    while not stop.is_set():
        for unit in UNITS:
            owner = unit[-1]
            try:
                if owner not in socks:
                    raw = socket.create_connection(("127.0.0.1", cot_ports[owner]), 5)
                    socks[owner] = contexts[owner].wrap_socket(raw, server_hostname="127.0.0.1")
                socks[owner].sendall(cot_xml(unit, time.time(), time.time() - start + 600))
            except OSError:
                socks.pop(owner, None)
        stop.wait(2.0)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(os.environ.get("KIZUNA_DEMO_DIR", "demo")),
        help="the nodes' directories (kept between runs; env KIZUNA_DEMO_DIR)",
    )
    parser.add_argument(
        "--base-port",
        type=int,
        default=int(os.environ.get("KIZUNA_DEMO_BASE_PORT", "8100")),
        help="USFJ's API port; JJOC +100, AUS +200 (env KIZUNA_DEMO_BASE_PORT)",
    )
    args = parser.parse_args()
    # SIGTERM as Ctrl+C, whichever thread receives it: the nodes are stopped in order.
    signal.signal(signal.SIGTERM, _interrupt)
    began = time.monotonic()
    root: Path = args.dir
    fresh = not (root / "usfj" / "node.toml").exists()
    if fresh:
        for _, _, offset in NODES:
            for p in (0, 1, 87, 89):
                if not _port_free(args.base_port + offset + p):
                    raise SystemExit(f"port {args.base_port + offset + p} is busy: use --base-port")
        create(root, args.base_port)
    procs: list[subprocess.Popen[bytes]] = []
    stop = threading.Event()
    try:
        urls, cot_ports = {}, {}
        for node_id, _, _ in NODES:
            cfg = NodeDir(root / node_id).load()
            urls[node_id] = cfg.api_url
            cot_ports[node_id] = int(cfg.plugins["cot"]["tls_port"])
            log = (root / node_id / "node.log").open("ab")
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "kizuna.cli", "serve", "--dir", str(root / node_id)],
                    stdout=log,
                    stderr=log,
                )
            )
        for node_id, url in urls.items():
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                raise SystemExit(f"{node_id} did not start; see {root / node_id / 'node.log'}")
        if fresh:
            seed(urls)
        threading.Thread(target=simulate, args=(root, cot_ports, stop), daemon=True).start()
        print("\nKizuna (絆) demo federation is running:\n")
        for node_id, nation, _ in NODES:
            print(
                f"  {node_id:5} ({nation})  {urls[node_id]}   "
                f"CoT tls://127.0.0.1:{cot_ports[node_id]}"
            )
        print(f"\nDemo logins (password: {PASSWORD}):")
        for node_id, users in USERS.items():
            for name, nation, clearance, _, _ in users:
                print(f"  {urls[node_id]:24}  {name:11} {nation} {clearance}")
        print(
            f"\nAPI docs: <node URL>/api/docs   Stop with Ctrl+C. Data stays in {root}."
            f"\nReady in {time.monotonic() - began:.1f} s.\n",
            flush=True,
        )
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        _stop(procs)


if __name__ == "__main__":
    main()
