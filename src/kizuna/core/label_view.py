"""How a label appears in API answers."""

from __future__ import annotations

from typing import Any

import msgspec

from kizuna.core.labels import Label, sort_rel_to


class LabelView(msgspec.Struct, kw_only=True):
    """The label fields every labelled answer carries (a base for typed responses)."""

    label: str
    label_fgi: str
    label_ja: str
    classification: str
    rel_to: list[str]
    noforn: bool
    exercise: bool
    originator: str


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
