"""A label's fields in answers: rendered once per label, a fresh copy for every answer."""

from __future__ import annotations

from kizuna.core.label_view import label_fields
from kizuna.core.labels import parse_label


def test_label_fields_are_the_labels_and_each_answer_owns_its_copy() -> None:
    label = parse_label("SECRET//REL TO USA, JPN")
    first = label_fields(label)
    assert first == {
        "label": "SECRET//REL TO USA, JPN",
        "label_fgi": "SECRET//REL TO USA, JPN",
        "label_ja": label.render_ja(),
        "classification": "SECRET",
        "rel_to": ["USA", "JPN"],
        "noforn": False,
        "exercise": False,
        "originator": label.originator,
    }
    first["rel_to"].append("AUS")
    first["label"] = "changed"
    again = label_fields(parse_label("SECRET//REL TO USA, JPN"))
    assert again["rel_to"] == ["USA", "JPN"] and again["label"] == "SECRET//REL TO USA, JPN"
