"""Pure rules of relief: the Sphere needs calculator, packs, checks, capability matching.

Sphere minimum standards (The Sphere Handbook, 2018): 15 L of water per person per day
(drinking, cooking, personal hygiene), 2,100 kcal per person per day, one toilet per 20
people, 3.5 m² of covered living space per person.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import msgspec

from kizuna.core.catalog import Catalog, Message
from kizuna.core.records import Event, RecordState, Text
from kizuna.kernel.contract import origin_owns
from kizuna.relief.items import CAPABILITIES, ITEMS, CapabilityCode
from kizuna.relief.models import DraftLine, Where

CATALOG = Catalog("kizuna.relief")

WATER_L_PER_PERSON_DAY = 15
KCAL_PER_PERSON_DAY = 2100
PEOPLE_PER_TOILET = 20
COVERED_M2_PER_PERSON = Fraction(7, 2)

MAX_POPULATION = 50_000_000
MAX_DAYS = 365.0
MAX_QUANTITY = 1e12
MAX_READINESS_HOURS = 24 * 365.0
DAY = 86_400.0


class RuleError(ValueError):
    """A rule's refusal of a value, carrying its catalog message."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message


def joined(problems: Sequence[Message]) -> Message:
    """Several problems as one detail, each rendered in the reader's language."""
    return CATALOG.msg(
        "error.problems",
        problems="; ".join(p.render("en") for p in problems),
        problems_ja="; ".join(p.render("ja") for p in problems),
    )


# -- numbers ---------------------------------------------------------------------------


def _exact(value: float | Fraction) -> Fraction:
    """The decimal a person wrote (0.1 days is a tenth, not 0.1000000000000000055…)."""
    return value if isinstance(value, Fraction) else Fraction(repr(float(value)))


def number(value: float) -> str:
    """A quantity for people: thousands separated, no trailing .0."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def in_packs(quantity: float | Fraction, pack_size: float | None) -> tuple[float, float | None]:
    """``quantity`` rounded up to whole packs: (quantity, packs); unpacked: (quantity, None)."""
    if pack_size is None:
        return float(quantity), None
    packs = math.ceil(_exact(quantity) / _exact(pack_size))
    return float(packs * _exact(pack_size)), float(packs)


# -- the needs calculator -----------------------------------------------------------------


def needs_problems(population: int, days: float) -> list[Message]:
    problems = []
    if not 0 <= population <= MAX_POPULATION:
        problems.append(CATALOG.msg("error.population", limit=MAX_POPULATION, value=population))
    if not (math.isfinite(days) and 0 < days <= MAX_DAYS):
        problems.append(CATALOG.msg("error.days", limit=MAX_DAYS, value=days))
    return problems


def _line(item: str, quantity: Fraction, description: Text) -> DraftLine:
    spec = ITEMS[item]
    total, packs = in_packs(quantity, spec.pack_size)
    return DraftLine(
        item=item,
        kind="item",
        description=description,
        quantity=total,
        unit=spec.unit,
        pack_size=spec.pack_size,
        packs=packs,
    )


def needs(population: int, days: float) -> list[DraftLine]:
    """Draft RFA lines for ``population`` people over ``days`` days (Sphere minimums),
    rounded up to whole packs where the item is packed. No one, no lines."""
    if population <= 0:
        return []
    d = _exact(days)
    args = {"population": number(population), "days": number(float(d))}
    return [
        _line(
            "water",
            population * d * WATER_L_PER_PERSON_DAY,
            CATALOG.text("needs.water", per=WATER_L_PER_PERSON_DAY, **args),
        ),
        _line(
            "food",
            population * d * KCAL_PER_PERSON_DAY,
            CATALOG.text("needs.food", per=number(KCAL_PER_PERSON_DAY), **args),
        ),
        _line(
            "toilet",
            Fraction(math.ceil(Fraction(population, PEOPLE_PER_TOILET))),
            CATALOG.text("needs.toilet", per=PEOPLE_PER_TOILET, **args),
        ),
        _line(
            "shelter_space",
            population * COVERED_M2_PER_PERSON,
            CATALOG.text("needs.shelter_space", per=number(float(COVERED_M2_PER_PERSON)), **args),
        ),
    ]


# -- checks ------------------------------------------------------------------------------


def position_problem(where: Where | None, field: str = "position") -> Message | None:
    if where is None:
        return None
    if not (math.isfinite(where.lat) and -90.0 <= where.lat <= 90.0):
        return CATALOG.msg("error.latitude", field=field, value=where.lat)
    if not (math.isfinite(where.lon) and -180.0 <= where.lon <= 180.0):
        return CATALOG.msg("error.longitude", field=field, value=where.lon)
    return None


def quantity_problem(value: float | None, field: str, *, positive: bool = False) -> Message | None:
    if value is None:
        return None
    low_ok = value > 0 if positive else value >= 0
    if not (math.isfinite(value) and low_ok and value <= MAX_QUANTITY):
        key = "error.quantity-positive" if positive else "error.quantity"
        return CATALOG.msg(key, field=field, limit=MAX_QUANTITY, value=value)
    return None


def text_problem(text: Text | None, field: str, *, needs_text: bool, limit: int) -> Message | None:
    if text is None:
        return None
    if needs_text and not (text.en.strip() or text.ja.strip()):
        return CATALOG.msg("error.text-needed", field=field)
    if max(len(text.en), len(text.ja)) > limit:
        return CATALOG.msg("error.text-too-long", field=field, limit=limit)
    return None


def capability_code(code: str) -> CapabilityCode | None:
    return CAPABILITIES.get(code)


def window_problem(start: float | None, end: float | None) -> Message | None:
    if start is not None and end is not None and end <= start:
        return CATALOG.msg("error.window")
    return None


def readiness_problem(hours: float | None) -> Message | None:
    if hours is None:
        return None
    if not (math.isfinite(hours) and 0 <= hours <= MAX_READINESS_HOURS):
        return CATALOG.msg("error.readiness", limit=MAX_READINESS_HOURS, value=hours)
    return None


def shelter_problems(fields: dict[str, object]) -> list[Message]:
    """Counts must be whole and not negative; a population above capacity is allowed
    (people do not leave a full shelter) and flagged by :func:`over_capacity`."""
    problems = []
    for key in ("capacity_day", "capacity_night", "population_day", "population_night"):
        value = fields.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**7:
            problems.append(CATALOG.msg("error.count", field=key, value=value))
    return problems


def over_capacity(population: int, capacity: int) -> bool:
    return population > capacity


def stock_quantity(
    item: str, quantity: float | None, packs: float | None, pack_size: float | None
) -> tuple[float, float | None]:
    """(quantity in base units, the pack size held) from what a stock write gives;
    :class:`RuleError` naming the fault."""
    spec = ITEMS.get(item)
    if spec is None:
        raise RuleError(CATALOG.msg("error.unknown-item", item=item, known=", ".join(ITEMS)))
    if not spec.stockable:
        raise RuleError(CATALOG.msg("error.not-stocked", item=item))
    for problem in (
        quantity_problem(quantity, "quantity"),
        quantity_problem(packs, "packs"),
        quantity_problem(pack_size, "pack_size", positive=True),
    ):
        if problem:
            raise RuleError(problem)
    size = pack_size if pack_size is not None else spec.pack_size
    if (quantity is None) == (packs is None):
        raise RuleError(CATALOG.msg("error.quantity-or-packs"))
    if packs is not None:
        if size is None:
            raise RuleError(CATALOG.msg("error.no-pack-size", item=item, unit=spec.unit))
        return float(_exact(packs) * _exact(size)), size
    assert quantity is not None
    return float(quantity), size


def plan_switch_problem(current: str, new: str, reason: Text | None) -> Message | None:
    if new == current:
        return CATALOG.msg("error.plan-already", mode=current)
    if reason is None or not (reason.en.strip() or reason.ja.strip()):
        return CATALOG.msg("error.switch-reason")
    return None


# -- matching ------------------------------------------------------------------------------


class Offerable(msgspec.Struct, frozen=True, kw_only=True):
    """What matching needs of a capability."""

    code: str
    quantity: float
    available_from: float | None
    available_to: float | None
    readiness_hours: float


class Fit(msgspec.Struct, frozen=True, kw_only=True):
    index: int  # of the capability in the list given
    covers: float
    fraction: float
    whole_window: bool


def factor(code: str, item: str, unit: str) -> float | None:
    """Base units of a line (item, unit) one unit of capability ``code`` gives, or None."""
    spec = CAPABILITIES.get(code)
    if spec is None:
        return None
    if item == code and unit == spec.unit:
        return 1.0
    for supplied, supplied_unit, per in spec.supplies:
        if supplied == item and supplied_unit == unit:
            return per
    return None


def fits(
    line: DraftLine, caps: Sequence[Offerable], start: float, end: float, now: float
) -> list[Fit]:
    """The capabilities that fit ``line`` over the need [start, end]: their code or what
    they supply matches the line's item and unit, and they are available (from ``now``
    plus their readiness) for some of the need. A rate gives its quantity a day over the
    days it overlaps the need; a count its quantity. Largest cover first."""
    found: list[Fit] = []
    if line.quantity <= 0:
        return found
    for n, cap in enumerate(caps):
        per = factor(cap.code, line.item, line.unit)
        if per is None or cap.quantity <= 0:
            continue
        ready = now + cap.readiness_hours * 3600.0
        begins = max(start, ready, cap.available_from or -math.inf)
        ends = min(end, cap.available_to if cap.available_to is not None else math.inf)
        if ends <= begins:
            continue
        spec = CAPABILITIES[cap.code]
        if spec.basis == "rate":
            amount = cap.quantity * per * (ends - begins) / DAY
        else:
            amount = cap.quantity * per
        covers = min(line.quantity, amount)
        found.append(
            Fit(
                index=n,
                covers=covers,
                fraction=covers / line.quantity,
                whole_window=begins <= start and ends >= end,
            )
        )
    found.sort(key=lambda f: (-f.covers, caps[f.index].readiness_hours, f.index))
    return found


# -- ownership -------------------------------------------------------------------------------


def relief_owner(state: RecordState | None, event: Event) -> str | None:
    """Sovereignty at receipt, for every relief record type: only the node that created a
    capability, stock, shelter or relief plan writes it (a peer's patch is ``not_owner``)."""
    return origin_owns(state, event)


def owner_may_edit(origin: str, node_id: str) -> bool:
    return origin == node_id
