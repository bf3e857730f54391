"""How a label appears in API answers."""

from __future__ import annotations

import functools
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
    """The fields of :class:`LabelView` for ``label`` (a fresh dict: callers may change it)."""
    fields = _label_fields(label)
    return {**fields, "rel_to": list(fields["rel_to"])}


@functools.lru_cache(maxsize=4096)
def _label_fields(label: Label) -> dict[str, Any]:
    # Labels are frozen and few: a snapshot of 10,000 tracks renders the same handful.
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
