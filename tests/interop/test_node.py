"""One real node process: an overlay imported over HTTP, exported per reader, hostile files
refused while the node keeps serving."""

from __future__ import annotations

from collections.abc import Callable

from fastkml import kml

from kizuna.interop.binding import verify
from tests.interop.test_imports import LAUGHS, XXE, kml_doc, zip_bomb
from tests.nodes import NodeProcess


def test_a_real_node_imports_exports_and_survives_hostile_files(
    node_factory: Callable[..., NodeProcess],
) -> None:
    jjoc = node_factory("jjoc", "JPN")
    jp = jjoc.user("sato", "JPN", "SECRET", "--role", "watch")
    au = jjoc.user("jones", "AUS", "SECRET")
    r = jp.post(
        "/api/v1/import",
        params={"kind": "zone", "label": "S//REL TO JPN, USA"},
        files={"file": ("area.kml", kml_doc(name="Sagami Bay box"))},
    )
    assert r.status_code == 201, r.text
    for name, data in (("xxe.kml", XXE), ("laughs.kml", LAUGHS), ("bomb.kmz", zip_bomb())):
        r = jp.post(
            "/api/v1/import",
            params={"kind": "zone", "label": "U"},
            files={"file": (name, data)},
        )
        assert r.status_code == 422 and r.json()["type"].startswith("/problems/import-"), r.text
        assert jp.get("/healthz").status_code == 200
    metrics = jp.get("/metrics").text
    assert 'kizuna_bad_input_total{reason="dtd",source="interop"} 2.0' in metrics
    mine = jp.get("/api/v1/export", params={"format": "kml", "types": "mda_zone"})
    doc = kml.KML.from_string(mine.content).features[0]
    names = [m.name for f in doc.features for m in f.features]
    assert names == ["(//JPN SECRET//REL TO USA, JPN) Sagami Bay box"]
    assert verify(mine.content, "kml").label.render() == "//JPN SECRET//REL TO USA, JPN"
    theirs = au.get("/api/v1/export", params={"format": "kml", "types": "mda_zone"})
    assert theirs.status_code == 200 and b"Sagami" not in theirs.content
    assert kml.KML.from_string(theirs.content).features[0].name.startswith("//JPN UNCLASSIFIED")
