"""The SITREP over the real assistance service (not the fake): per-reader RFAs and offers."""

from __future__ import annotations

import msgspec

from kizuna.assistance import plugin as assistance_plugin
from kizuna.assistance.models import LineIn, OfferIn, RfaIn, SiteIn
from kizuna.core.records import Text
from tests.sitrep.support import BILATERAL, EVERYONE, Scenario


def test_real_assistance_reads_are_built_per_reader() -> None:
    s = Scenario()
    for rt in assistance_plugin.record_types():
        s.ctx.events.register_merge(rt.name, rt.merge)
    real = assistance_plugin.start(s.ctx)
    s.ctx._services["assistance"] = real

    def rfa(label: str, title: str) -> RfaIn:
        return RfaIn(
            incident_id=s.incident_id,
            affected_state="JPN",
            affected_node="jjoc",
            requesting_org=Text(en="Ishikawa Prefecture", ja="石川県"),
            site=SiteIn(id="sh-1", name=Text(en="Wajima Gymnasium", ja="輪島市立体育館")),
            title=Text(en=title),
            lines=[LineIn(item="water", unit="L", quantity=900_000.0)],
            label=label,
        )

    water = real.create_rfa(s.usa, rfa(EVERYONE, "Water for Wajima"))
    real.create_rfa(s.usa, rfa(BILATERAL, "Bilateral water plan"))
    real.create_offer(
        s.usa,
        OfferIn(
            rfa_id=water.id,
            lines=[LineIn(item="water", unit="L", quantity=400_000.0)],
            unit="35th Fighter Wing",
            label=EVERYONE,
        ),
    )

    ours = s.sitrep.build(s.usa, s.incident_id)
    theirs = s.sitrep.build(s.aus, s.incident_id)
    assert sorted(r.title.en for r in ours.rfas) == ["Bilateral water plan", "Water for Wajima"]
    assert [r.title.en for r in theirs.rfas] == ["Water for Wajima"]
    assert "Bilateral water plan" not in msgspec.json.encode(theirs).decode()
    line = theirs.rfas[0].lines[0]
    assert (line.requested, line.offered, line.unit) == (900_000.0, 400_000.0, "L")
    assert [(o.organisation, o.commitment) for o in theirs.offers] == [("USA", False)]
    assert theirs.rfas[0].adm1.ja == "石川県" and theirs.rfas[0].location.en == "Wajima Gymnasium"
    assert theirs.label == "SECRET//REL TO USA, AUS, JPN"
