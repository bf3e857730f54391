"""Reading an MSEL from CSV (pure): every row checked, every bad row named, all or nothing.

Columns (a header row; order free, unknown columns refused)::

    seq, time, move, from_org, to_org, to_node, delivery, description_en, description_ja,
    expected_action_en, expected_action_ja, hidden, lat, lon

``time`` is relative to STARTEX: ``HH:MM``, ``-HH:MM`` or ``D+HH:MM`` (day D of play,
``1+02:00`` is 26 hours after STARTEX). ``hidden`` is ``yes``/``no`` (``true``/``false``,
``1``/``0``, empty: no). Row numbers count the header as row 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import io
import re

import msgspec

from kizuna.core.catalog import Message
from kizuna.exercises.messages import MESSAGES, Joined, RowError
from kizuna.exercises.models import InjectIn

COLUMNS = (
    "seq",
    "time",
    "move",
    "from_org",
    "to_org",
    "to_node",
    "delivery",
    "description_en",
    "description_ja",
    "expected_action_en",
    "expected_action_ja",
    "hidden",
    "lat",
    "lon",
)
REQUIRED = frozenset({"seq", "time", "from_org", "to_org", "description_en"})
MAX_ROWS = 2000
MAX_BYTES = 2 * 1024 * 1024
_TIME = re.compile(r"^(-)?(?:(\d{1,3})\+)?(\d{1,3}):([0-5]\d)$")
_BOOL = {"": False, "no": False, "false": False, "0": False, "yes": True, "true": True, "1": True}


class MselError(ValueError):
    """A CSV that cannot be imported; ``problems`` names each bad row (in English; the
    catalog messages are ``messages``, and ``message`` the first twenty of them joined, to
    render in the reader's language)."""

    def __init__(self, messages: list[Message]) -> None:
        self.message: Message = Joined(messages[:20])
        super().__init__(str(self.message))
        self.messages = messages
        self.problems = [str(m) for m in messages]


def parse_time(text: str) -> float:
    """Minutes after STARTEX (negative before it) from ``HH:MM``, ``-HH:MM``, ``D+HH:MM``."""
    m = _TIME.match(text.strip())
    if m is None:
        raise RowError(MESSAGES.msg("msel.time", text=repr(text)))
    sign, day, hours, minutes = m.groups()
    total = int(day or 0) * 1440 + int(hours) * 60 + int(minutes)
    return float(-total if sign else total)


def _row(n: int, row: dict[str, str]) -> InjectIn:
    get = {k: (v or "").strip() for k, v in row.items()}
    hidden = _BOOL.get(get.get("hidden", "").lower())
    if hidden is None:
        raise RowError(MESSAGES.msg("msel.hidden", value=repr(get["hidden"])))
    position = None
    if get.get("lat") or get.get("lon"):
        try:
            position = {"lat": float(get["lat"]), "lon": float(get["lon"])}
        except (KeyError, ValueError):
            raise RowError(MESSAGES.msg("msel.lat-lon")) from None
    try:
        seq = int(get["seq"])
    except ValueError:
        raise RowError(MESSAGES.msg("msel.seq", value=repr(get["seq"]))) from None
    data = {
        "seq": seq,
        "offset_minutes": parse_time(get["time"]),
        "move": get.get("move", ""),
        "from_org": get["from_org"],
        "to_org": get["to_org"],
        "to_node": get.get("to_node") or None,
        "delivery": get.get("delivery") or "request",
        "description": {"en": get["description_en"], "ja": get.get("description_ja", "")},
        "expected_action": {
            "en": get.get("expected_action_en", ""),
            "ja": get.get("expected_action_ja", ""),
        },
        "hidden": hidden,
        "position": position,
    }
    try:
        return msgspec.convert(data, InjectIn)
    except msgspec.ValidationError as exc:
        raise ValueError(str(exc)) from None


def parse_msel(text: str) -> list[InjectIn]:
    """The injects of a CSV MSEL (MselError naming every bad row; nothing half-read)."""
    if len(text.encode()) > MAX_BYTES:
        raise MselError([MESSAGES.msg("msel.too-large", limit=MAX_BYTES)])
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    problems: list[Message] = []
    unknown = sorted(set(header) - set(COLUMNS))
    missing = sorted(REQUIRED - set(header))
    if unknown:
        problems.append(MESSAGES.msg("msel.unknown-columns", columns=", ".join(unknown)))
    if missing:
        problems.append(MESSAGES.msg("msel.missing-columns", columns=", ".join(missing)))
    if problems:
        raise MselError(problems)
    reader.fieldnames = header
    out: list[InjectIn] = []
    seen: dict[int, int] = {}
    for i, row in enumerate(reader):
        n = i + 2
        if n - 1 > MAX_ROWS:
            raise MselError([MESSAGES.msg("msel.too-many-rows", limit=MAX_ROWS)])
        if None in row:
            problems.append(MESSAGES.msg("msel.extra-fields", n=n))
            continue
        if not any((v or "").strip() for v in row.values()):
            continue  # a blank line
        try:
            inject = _row(n, row)
        except (ValueError, KeyError) as exc:
            why = exc.message if isinstance(exc, RowError) else str(exc)
            problems.append(MESSAGES.msg("msel.row", n=n, problem=why))
            continue
        if inject.seq in seen:
            problems.append(
                MESSAGES.msg("msel.seq-repeats", n=n, seq=inject.seq, first=seen[inject.seq])
            )
            continue
        seen[inject.seq] = n
        out.append(inject)
    if problems:
        raise MselError(problems)
    if not out:
        raise MselError([MESSAGES.msg("msel.no-injects")])
    return out
