"""JMA disaster XML (気象庁防災情報XML) → :class:`Bulletin`: VXSE51, VXSE52, VXSE53, VXSE43, VTSE41.

Key: (Control/Status, Head/EventID, type, Head/Serial, Head/InfoType); an empty Serial (JMA
leaves it empty in 震度速報, 震源速報 and tsunami bulletins) is replaced by
Head/ReportDateTime, so successive bulletins of one event stay apart. InfoType 発表 / 訂正 /
取消 → issue / correction / cancel; Status 通常 / 訓練 / 試験 → actual / exercise / test.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

from kizuna.incidents.models import (
    INTENSITIES,
    Bulletin,
    Hypocentre,
    IntensityArea,
    Magnitude,
    TsunamiArea,
)
from kizuna.sources.alerts.xmlsafe import AlertError, required, text, timestamp

JMX = "http://xml.kishou.go.jp/jmaxml1/"
NS = {
    "j": JMX,
    "h": JMX + "informationBasis1/",
    "s": JMX + "body/seismology1/",
    "eb": JMX + "elementBasis1/",
}

TYPES = {
    "震度速報": "VXSE51",
    "震源に関する情報": "VXSE52",
    "震源・震度に関する情報": "VXSE53",
    "緊急地震速報（警報）": "VXSE43",
    "津波警報・注意報・予報a": "VTSE41",
    "津波警報・注意報・予報": "VTSE41",
}
STATUS = {"通常": "actual", "訓練": "exercise", "試験": "test"}
INFO_TYPE = {"発表": "issue", "訂正": "correction", "取消": "cancel"}

# ISO 6709 as JMA writes it: +lat+lon[±height in metres]/ (decimal degrees).
_COORD = re.compile(r"^([+-]\d{1,2}(?:\.\d+)?)([+-]\d{1,3}(?:\.\d+)?)([+-]\d+(?:\.\d+)?)?/$")
_FULLWIDTH = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")


def is_jma(root: ET.Element) -> bool:
    return root.tag == f"{{{JMX}}}Report"


def parse_jma(root: ET.Element) -> Bulletin:
    if not is_jma(root):
        raise AlertError("not_an_alert", f"root element {root.tag} is not a JMA Report")
    control = root.find("j:Control", NS)
    head = root.find("h:Head", NS)
    if control is None or head is None:
        raise AlertError("missing_field", "Control or Head is missing")
    title = required(control, "j:Title", NS, "Control/Title")
    kind_type = TYPES.get(title)
    if kind_type is None:
        raise AlertError("unsupported_type", f"Control/Title {title!r} is not a supported bulletin")
    status_raw = required(control, "j:Status", NS, "Control/Status")
    status = STATUS.get(status_raw)
    if status is None:
        raise AlertError("bad_value", f"Control/Status {status_raw!r} is not 通常, 訓練 or 試験")
    info_raw = required(head, "h:InfoType", NS, "Head/InfoType")
    kind = INFO_TYPE.get(info_raw)
    if kind is None:
        raise AlertError("bad_value", f"Head/InfoType {info_raw!r} is not 発表, 訂正 or 取消")
    event_id = required(head, "h:EventID", NS, "Head/EventID")
    reported = required(head, "h:ReportDateTime", NS, "Head/ReportDateTime")
    issued_at = timestamp(reported, "Head/ReportDateTime")
    serial_raw = text(head.find("h:Serial", NS))
    serial = None
    if serial_raw:
        if not serial_raw.isdigit():
            raise AlertError("bad_value", f"Head/Serial {serial_raw!r} is not a number")
        serial = int(serial_raw)
    bulletin = Bulletin(
        source="jma",
        key=[status_raw, event_id, kind_type, serial_raw or reported, info_raw],
        status=status,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
        event=event_id,
        type=kind_type,
        issued_at=issued_at,
        serial=serial,
        title=text(head.find("h:Title", NS)),
        headline=text(head.find("h:Headline/h:Text", NS)),
        publisher=text(control.find("j:PublishingOffice", NS)),
    )
    body = root.find("s:Body", NS)
    if body is not None and kind != "cancel":
        _body(body, bulletin)
    return bulletin


def _body(body: ET.Element, b: Bulletin) -> None:
    quake = body.find("s:Earthquake", NS)
    if quake is not None:
        origin = text(quake.find("s:OriginTime", NS))
        if origin:
            b.origin_time = timestamp(origin, "Earthquake/OriginTime")
        area = quake.find("s:Hypocenter/s:Area", NS)
        if area is not None:
            b.hypocentre = _hypocentre(area)
        mag = quake.find("eb:Magnitude", NS)
        if mag is not None:
            b.magnitude = _magnitude(mag)
    observation = body.find("s:Intensity/s:Observation", NS)
    if observation is not None:
        b.max_intensity = _intensity(text(observation.find("s:MaxInt", NS)), "MaxInt")
        b.intensity_areas = _areas(observation, "s:MaxInt")
    forecast = body.find("s:Intensity/s:Forecast", NS)
    if forecast is not None:
        b.forecast_intensity = _intensity(
            text(forecast.find("s:ForecastInt/s:From", NS)), "ForecastInt/From"
        )
        b.intensity_areas = _areas(forecast, "s:ForecastInt/s:From")
    for item in body.findall("s:Tsunami/s:Forecast/s:Item", NS):
        b.tsunami_areas.append(_tsunami(item))


def _hypocentre(area: ET.Element) -> Hypocentre:
    h = Hypocentre(name=text(area.find("s:Name", NS)), code=text(area.find("s:Code", NS)))
    coord = area.find("eb:Coordinate", NS)
    if coord is None:
        return h
    h.description = coord.get("description", "")
    value = text(coord).translate(_FULLWIDTH)
    if not value:
        return h  # 震源要素不明: JMA gives no coordinate yet
    m = _COORD.match(value)
    if m is None:
        raise AlertError("bad_value", f"hypocentre coordinate {value!r} is not ISO 6709")
    lat, lon = float(m.group(1)), float(m.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise AlertError("bad_value", f"hypocentre {lat}, {lon} is out of range")
    h.lat, h.lon = lat, lon
    if m.group(3) is not None:
        h.depth_km = abs(float(m.group(3))) / 1000.0
    return h


def _magnitude(el: ET.Element) -> Magnitude:
    raw = text(el)
    try:
        value: float | None = float(raw)
    except ValueError:
        raise AlertError("bad_value", f"magnitude {raw!r} is not a number") from None
    if value is not None and math.isnan(value):
        value = None  # not determined: the description says why (Ｍ不明, Ｍ８を超える…)
    return Magnitude(value=value, type=el.get("type", ""), description=el.get("description", ""))


def _intensity(value: str, what: str) -> str | None:
    if not value:
        return None
    if value not in INTENSITIES and value != "over":
        raise AlertError("bad_value", f"{what} {value!r} is not an intensity class")
    return value if value in INTENSITIES else None


def _areas(parent: ET.Element, int_path: str) -> list[IntensityArea]:
    out = []
    for pref in parent.findall("s:Pref", NS):
        pcode = text(pref.find("s:Code", NS))
        out.append(_area("pref", pref, "", int_path))
        for area in pref.findall("s:Area", NS):
            out.append(_area("area", area, pcode, int_path))
            acode = out[-1].code
            for city in area.findall("s:City", NS):
                out.append(_area("city", city, acode, int_path))
    return out


def _area(level: str, el: ET.Element, parent: str, int_path: str) -> IntensityArea:
    path = int_path if el.find(int_path, NS) is not None else "s:MaxInt"
    return IntensityArea(
        level=level,  # type: ignore[arg-type]
        code=text(el.find("s:Code", NS)),
        name=text(el.find("s:Name", NS)),
        intensity=_intensity(text(el.find(path, NS)), f"{level} intensity"),
        parent=parent,
    )


def _tsunami(item: ET.Element) -> TsunamiArea:
    code = text(item.find("s:Area/s:Code", NS))
    kind_code = text(item.find("s:Category/s:Kind/s:Code", NS))
    if not code or not kind_code:
        raise AlertError("missing_field", "a tsunami forecast item lacks Area/Code or Kind/Code")
    return TsunamiArea(
        code=code,
        name=text(item.find("s:Area/s:Name", NS)),
        kind_code=kind_code,
        kind_name=text(item.find("s:Category/s:Kind/s:Name", NS)),
        last_kind_code=text(item.find("s:Category/s:LastKind/s:Code", NS)),
        last_kind_name=text(item.find("s:Category/s:LastKind/s:Name", NS)),
    )
