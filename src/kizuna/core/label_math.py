"""Combining labels: the most restrictive of two, for content nested inside other content."""

from __future__ import annotations

from kizuna.core.labels import COUNTRIES, DEFAULT_GROUPS, GroupRegistry, Label, make_label


def _nations(label: Label, registry: GroupRegistry) -> frozenset[str] | None:
    """Nations a label releases to; None means every nation (UNCLASSIFIED, no REL TO)."""
    if label.noforn:
        return frozenset({label.originator})
    if not label.rel_to:
        return None if label.classification == 0 else frozenset({label.originator})
    nations: set[str] = set()
    for code in label.rel_to:
        if code in COUNTRIES:
            nations.add(code)
        elif code in registry:
            nations |= registry.members(code)
    return frozenset(nations)


def restrict(inner: Label, outer: Label, registry: GroupRegistry = DEFAULT_GROUPS) -> Label:
    """A label releasable only where both ``inner`` and ``outer`` are (keeps inner's originator).

    Used for a comment on a request: a comment can never travel further than
    the request it belongs to.
    """
    a, b = _nations(inner, registry), _nations(outer, registry)
    classification = max(inner.classification, outer.classification)
    exercise = inner.exercise or outer.exercise
    if a is None:
        if b is None:
            return make_label(
                classification, exercise=exercise, originator=inner.originator, groups=registry
            )
        allowed = b
    elif b is None:
        allowed = a
    else:
        allowed = a & b
    if allowed <= {inner.originator} and classification > 0:
        return make_label(
            classification,
            noforn=True,
            exercise=exercise,
            originator=inner.originator,
            groups=registry,
        )
    return make_label(
        classification,
        rel_to=allowed | {inner.originator},
        exercise=exercise,
        originator=inner.originator,
        groups=registry,
    )
