"""The demo's exercise: PACIFIC KIZUNA 26, led by USFJ with JJOC and AUS (issue 14).

USFJ's exercise control plans it (milestones of the planning conferences, the exercise area
in the Higashi-Fuji manoeuvre area), imports its MSEL from CSV, approves the injects and
starts it: the first inject is delivered to JJOC at once as a coordination request marked
EXERCISE, the others follow on schedule (one hidden from players). Needs a USFJ user with
the ``exercise_control`` role (or ``admin``). Idempotent: an exercise of the same name is
left alone. HTTP API only.
"""

from __future__ import annotations

import datetime as dt

import httpx

NAME = {"en": "PACIFIC KIZUNA 26", "ja": "パシフィック絆26"}
LABEL = "UNCLASSIFIED"
MSEL = (
    "seq,time,move,from_org,to_org,to_node,delivery,description_en,description_ja,hidden\n"
    "1,00:00,1,EXCON,JJOC J3,jjoc,request,"
    "Simulated: a merchant vessel aground off Kure requests tug support,"
    "想定：呉沖で商船座礁、曳船支援の要請,no\n"
    "2,02:00,1,EXCON,AUS contingent,aus,report,"
    "Simulated: landing area Bravo closed by weather,想定：天候により着陸地域B閉鎖,no\n"
    "3,06:00,2,EXCON,JJOC J3,jjoc,request,"
    "Simulated: loss of communications with the forward company,想定：前方中隊との通信途絶,yes\n"
    "4,1+00:00,2,EXCON,USFJ J3,usfj,report,"
    "Simulated: mass-casualty drill at the range,想定：演習場での多数傷者対処,no\n"
)


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def seed(jp: httpx.Client, us: httpx.Client, au: httpx.Client) -> None:
    existing = us.get("/api/v1/exercises")
    existing.raise_for_status()
    if any(e["name"]["en"] == NAME["en"] for e in existing.json()):
        return
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    day = dt.timedelta(days=1)
    milestones = [
        ("concept", "Concept development conference", "構想検討会議", -120),
        ("ipc", "Initial planning conference", "初期計画会議", -90),
        ("mpc", "Main planning conference", "中間計画会議", -60),
        ("fpc", "Final planning conference", "最終計画会議", -21),
        ("assessment", "After-action review", "事後研究会", 7),
    ]
    body = {
        "name": NAME,
        "label": LABEL,
        "participants": [
            {"nation": "USA", "node": "usfj", "units": ["III MEF", "U.S. Army Japan"]},
            {"nation": "JPN", "node": "jjoc", "units": ["Ground Component Command"]},
            {"nation": "AUS", "node": "aus", "units": ["1st Brigade"]},
        ],
        "startex": _iso(now - dt.timedelta(minutes=5)),
        "endex": _iso(now + 3 * day),
        "stages": [
            {"stage": "concept", "start": _iso(now - 120 * day), "end": _iso(now - 119 * day)},
            {"stage": "ipc", "start": _iso(now - 90 * day), "end": _iso(now - 88 * day)},
            {"stage": "mpc", "start": _iso(now - 60 * day), "end": _iso(now - 58 * day)},
            {"stage": "fpc", "start": _iso(now - 21 * day), "end": _iso(now - 20 * day)},
            {"stage": "execution", "start": _iso(now), "end": _iso(now + 3 * day)},
            {"stage": "assessment", "start": _iso(now + 7 * day), "end": _iso(now + 8 * day)},
        ],
        "milestones": [
            {"stage": stage, "name": {"en": en, "ja": ja}, "at": _iso(now + days * day)}
            for stage, en, ja, days in milestones
        ],
        "retention_days": 365,
        "track_prefixes": ["cot-PK26-"],
        "area": [
            {"lat": 35.30, "lon": 138.78},
            {"lat": 35.38, "lon": 138.78},
            {"lat": 35.38, "lon": 138.90},
            {"lat": 35.30, "lon": 138.90},
        ],
    }
    r = us.post("/api/v1/exercises", json=body)
    r.raise_for_status()
    eid = r.json()["id"]
    r = us.post(f"/api/v1/exercises/{eid}/msel", json={"csv": MSEL})
    r.raise_for_status()
    injects = r.json()["injects"]
    for inject in injects:
        if inject["seq"] != 4:
            us.post(f"/api/v1/injects/{inject['id']}/transition", json={"to": "APPROVED"})
    us.post(f"/api/v1/exercises/{eid}/state", json={"action": "start"}).raise_for_status()
    first = next(i for i in injects if i["seq"] == 1)
    # Delivered now (the node's schedule may have got there first: 409, and that is fine).
    r = us.post(f"/api/v1/injects/{first['id']}/transition", json={"to": "DELIVERED"})
    if r.status_code not in (200, 409):
        r.raise_for_status()
