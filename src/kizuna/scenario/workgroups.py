"""The demo's Alliance Coordination Group: members on USFJ and JJOC, a meeting with
minutes, two action items from it (OPR on JJOC, OCR on USFJ) and a liaison log entry.

USFJ convenes the group (its co-chairs: USFJ's and JJOC's watch officers) and records the
meeting and its items; JJOC, the OPR's node, moves the items. Japanese terms are the
glossary's (同盟調整グループ, 主担当部署, 調整担当部署, 対応事項). Idempotent: a group of
that name already on USFJ leaves everything alone. HTTP API only.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

BOTH = "SECRET//REL TO USA, JPN"
NAME = {"en": "Alliance Coordination Group", "ja": "同盟調整グループ"}
DAY = 86_400


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _ok(r: httpx.Response) -> Any:
    if r.status_code >= 400:
        raise SystemExit(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}")
    return r.json()


def seed(jp: httpx.Client, us: httpx.Client, au: httpx.Client) -> None:
    del jp, au  # USFJ records the group; JJOC receives it by federation
    if any(g["name"]["en"] == NAME["en"] for g in _ok(us.get("/api/v1/working-groups"))):
        return
    group = _ok(
        us.post(
            "/api/v1/working-groups",
            json={
                "name": NAME,
                "convening_authority": {
                    "en": "USINDOPACOM and the Joint Operations Command",
                    "ja": "インド太平洋軍・統合作戦司令部",
                },
                "level": "acg",
                "cadence": "weekly",
                "co_chairs": [
                    {"user": "us.watch", "node": "usfj", "nation": "USA"},
                    {"user": "jp.watch", "node": "jjoc", "nation": "JPN"},
                ],
                "members": [
                    {"user": "jp.liaison", "node": "usfj", "nation": "JPN"},
                    {"user": "us.liaison", "node": "jjoc", "nation": "USA"},
                ],
                "label": BOTH,
            },
        )
    )
    now = time.time()
    meeting = _ok(
        us.post(
            "/api/v1/meetings",
            json={
                "working_group_id": group["id"],
                "start": _iso(now - 2 * 3600),
                "title": {"en": "ACG weekly coordination", "ja": "同盟調整グループ定例調整"},
                "agenda": {
                    "en": "1. Exercise schedule\n2. Airspace coordination",
                    "ja": "1. 演習日程\n2. 空域調整",
                },
                "minutes": {
                    "en": "Both chains agreed to align the exercise schedule; "
                    "airspace coordination to be confirmed by JJOC J3.",
                    "ja": "双方の指揮系統は演習日程の調整に合意した。"
                    "空域調整は統合作戦司令部J3が確認する。",
                },
                "label": BOTH,
            },
        )
    )
    items = [
        ("Align the bilateral exercise schedule", "日米共同統合演習の日程調整", 3, "high"),
        ("Confirm airspace coordination", "空域調整の確認", 7, "medium"),
    ]
    for en, ja, days, priority in items:
        _ok(
            us.post(
                "/api/v1/action-items",
                json={
                    "title": {"en": en, "ja": ja},
                    "meeting_id": meeting["id"],
                    "opr": {"office": "J3 Operations", "node": "jjoc", "nation": "JPN"},
                    "ocr": {"office": "J5 Plans", "node": "usfj", "nation": "USA"},
                    "due": _iso(now + days * DAY),
                    "priority": priority,
                    "label": BOTH,
                },
            )
        )
    _ok(
        us.post(
            "/api/v1/liaison/entries",
            json={
                "text": {
                    "en": "Called JJOC J3: the Alliance Coordination Group action items are "
                    "with their office of primary responsibility.",
                    "ja": "統合作戦司令部J3に連絡：同盟調整グループの対応事項は主担当部署が対応中。",
                },
                "original_language": "ja",
                "label": "UNCLASSIFIED",
            },
        )
    )
