"""How a label appears in API answers."""

from __future__ import annotations

from typing import Any

from kizuna.core.labels import Label, sort_rel_to


def label_fields(label: Label) -> dict[str, Any]:
    return {
        "label": label.render(fgi=False),
        "label_fgi": label.render(),
        "label_ja": label.render_ja(),
        "classification": label.classification.marking,
        "rel_to": sort_rel_to(label.rel_to),
        "noforn": label.noforn,
        "exercise": label.exercise,
        "originator": label.originator,
    }
