"""The fast position decoder gives pyais's answers; gpsd's expected values hold."""

from __future__ import annotations

import re
from pathlib import Path

import pyais
import pytest

from kizuna.sources.ais.decode import (
    MESSAGE_TYPE,
    POSITION_TYPES,
    DecodeError,
    fast_position,
    position_with_pyais,
)
from kizuna.sources.ais.nmea import Frame, parse_sentence

from .conftest import SAMPLE_FILES


def position_sentences(path: Path) -> list[tuple[bytes, Frame]]:
    """Every well-formed single-part position report in a file."""
    out = []
    for raw in path.read_bytes().splitlines():
        raw = raw.strip()
        if not raw or raw.startswith(b"#"):
            continue
        frame = parse_sentence(raw)
        single = isinstance(frame, Frame) and frame.count == 1
        if single and MESSAGE_TYPE[frame.payload[0]] in POSITION_TYPES:  # type: ignore[union-attr]
            out.append((raw, frame))  # type: ignore[arg-type]
    return out


def pyais_fields(raw: bytes) -> tuple[object, ...]:
    sentence = raw.split(b"\\")[-1]
    star = sentence.index(b"*")
    msg = pyais.decode(sentence[: star + 3])  # without receiver suffixes
    heading = None if msg.msg_type == 27 else msg.heading
    status = int(msg.status) if msg.msg_type in (1, 2, 3, 27) else None
    return (msg.msg_type, msg.mmsi, msg.lat, msg.lon, msg.speed, msg.course, heading, status)


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_fast_path_matches_pyais_on_every_position_report(data_dir: Path, name: str) -> None:
    sentences = position_sentences(data_dir / name)
    assert sentences, name
    fast_used = 0
    for raw, frame in sentences:
        try:
            expected = pyais_fields(raw)
        except Exception:
            with pytest.raises(DecodeError):
                position_with_pyais(frame.payload, frame.fill)
            continue
        if None in expected[2:6]:  # pyais: too short to hold a position; we reject it
            assert fast_position(frame.payload, frame.fill) is None
            with pytest.raises(DecodeError):
                position_with_pyais(frame.payload, frame.fill)
            continue
        try:
            ours = fast_position(frame.payload, frame.fill)
        except DecodeError:
            pytest.fail(f"fast path refused {raw!r}, pyais decoded it")
        if ours is None:  # too short for the fast path: the pyais path answers
            ours = position_with_pyais(frame.payload, frame.fill)
        else:
            fast_used += 1
        assert tuple(ours) == expected, raw
    assert fast_used >= len(sentences) * 0.8, (fast_used, len(sentences))


def test_fast_path_counts() -> None:
    # Every position type has its fast path (a synthetic message of each type).
    for msg_type in (1, 2, 3, 18, 19, 27):
        data = {
            "type": msg_type,
            "mmsi": 431000001,
            "lat": 35.45,
            "lon": 139.65,
            "speed": 12.3,
            "course": 271.5,
            "heading": 270,
            "status": 0,
        }
        if msg_type == 27:
            data.update(speed=12, course=271)
        sentence = pyais.encode_dict(data, talker_id="AI", sentence_type="VDM")[0]
        frame = parse_sentence(sentence.encode())
        assert isinstance(frame, Frame)
        ours = fast_position(frame.payload, frame.fill)
        assert ours is not None
        assert tuple(ours) == pyais_fields(sentence.encode())


def test_bad_armour_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        fast_position(b"15RTgt0PAso;90TKcjM8h6g208C\x7f", 0)
    with pytest.raises(DecodeError):
        fast_position(b"15RTgt0PAso;90TKcjM8h6g208C~", 0)


# -- gpsd_sample.aivdm: each sentence is followed by the values independent
# decoders produced, as "#  Key: value" comment lines.

_KV = re.compile(r"^#\s*([A-Za-z_][A-Za-z_ ]*?)\s*:\s*(\S.*?)\s*$")


def gpsd_expectations(path: Path) -> list[tuple[bytes, dict[str, str]]]:
    cases: list[tuple[bytes, dict[str, str]]] = []
    current: dict[str, str] | None = None
    for line in path.read_text("ascii", "replace").splitlines():
        if line.startswith("!"):
            current = {}
            cases.append((line.strip().encode(), current))
        elif line.startswith("#") and current is not None:
            m = _KV.match(line)
            if m:
                current.setdefault(m.group(1).strip(), m.group(2))
        elif not line.strip():
            current = None
    return cases


def _first(fields: dict[str, str], *keys: str) -> str | None:
    for key in keys:
        if key in fields:
            return fields[key]
    return None


def test_gpsd_expected_values(data_dir: Path) -> None:
    checked = 0
    for raw, fields in gpsd_expectations(data_dir / "gpsd_sample.aivdm"):
        frame = parse_sentence(raw)
        if not isinstance(frame, Frame) or frame.count != 1:
            continue
        if MESSAGE_TYPE[frame.payload[0]] not in POSITION_TYPES or not fields:
            continue
        pos = fast_position(frame.payload, frame.fill)
        assert pos is not None, raw
        mmsi = _first(fields, "UserID", "MMSI")
        lat = _first(fields, "latitude", "Latitude")
        lon = _first(fields, "longitude", "Longitude")
        assert mmsi is not None and lat is not None and lon is not None, fields
        assert pos.mmsi == int(mmsi)
        assert pos.lat == pytest.approx(float(lat), abs=1e-6)
        assert pos.lon == pytest.approx(float(lon), abs=1e-6)
        # "SOG"/"COG" dumps are scaled (knots, degrees); the one "Speed Over
        # Ground"/"Course Over Ground" dump (a type 18) gives raw tenths.
        if "SOG" in fields:
            assert pos.speed == pytest.approx(float(fields["SOG"]))
            assert pos.course == pytest.approx(float(fields["COG"]))
        else:
            assert pos.speed == pytest.approx(float(fields["Speed Over Ground"]) / 10)
            assert pos.course == pytest.approx(float(fields["Course Over Ground"]) / 10)
        heading = _first(fields, "TrueHeading", "True Heading")
        if heading is not None:
            assert pos.heading == int(heading)
        if "NavigationStatus" in fields:
            assert pos.status == int(fields["NavigationStatus"])
        checked += 1
    assert checked == 8  # types 1, 1, 2, 3, 18, 18, 18, 19 carry expected values
