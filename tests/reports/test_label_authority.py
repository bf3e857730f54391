"""The label authority rule (kernel/authority.py), tested against the release check itself."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.core.label_math import restrict
from kizuna.core.labels import Label, make_label, parse_label
from kizuna.core.release import Principal, may_release
from kizuna.kernel.authority import decide_relabel, widenings
from tests.core.strategies import REGISTRY, labels, principals


def same_originator(label: Label, originator: str) -> Label:
    return make_label(
        label.classification,
        rel_to=label.rel_to,
        noforn=label.noforn,
        exercise=label.exercise,
        originator=originator,
        groups=REGISTRY,
    )


def anyone(before: Label, after: Label) -> bool:
    """Whether a user without authority (another nation, no role) may make the change."""
    return decide_relabel(
        before,
        after,
        record_origin="usfj",
        node_id="usfj",
        nation="KOR" if before.originator != "KOR" else "JPN",
        roles=["requester"],
        registry=REGISTRY,
    ).allowed


@settings(max_examples=3_000)
@given(labels(), labels(), st.booleans(), st.lists(principals(), min_size=8, max_size=8))
def test_what_anyone_may_do_never_releases_further(
    before: Label, other: Label, keep_origin: bool, who: list[Principal]
) -> None:
    after = same_originator(other, before.originator) if keep_origin else other
    if anyone(before, after):
        assert after.classification >= before.classification
        assert after.exercise or not before.exercise
        for p in who:
            if may_release(after, p):
                assert may_release(before, p), (before.render(), after.render(), p)
    else:
        assert widenings(before, after, REGISTRY)


@settings(max_examples=2_000)
@given(labels(), labels())
def test_restricting_and_keeping_are_always_allowed(before: Label, other: Label) -> None:
    assert anyone(before, before)
    assert anyone(before, restrict(same_originator(other, before.originator), before, REGISTRY))


def decide(before: str, after: str, **who: object) -> tuple[str, ...] | None:
    """The widened dimensions if allowed, None if refused."""
    args: dict[str, object] = {
        "record_origin": "usfj",
        "node_id": "usfj",
        "nation": "USA",
        "roles": ["classifier"],
        **who,
    }
    d = decide_relabel(
        parse_label(before, groups=REGISTRY),
        parse_label(after, groups=REGISTRY),
        registry=REGISTRY,
        **args,  # type: ignore[arg-type]
    )
    return d.widened if d.allowed else None


def test_the_originators_classifier_on_the_originating_node_may_widen() -> None:
    b = "SECRET//REL TO USA, JPN"
    assert decide(b, "UNCLASSIFIED") == ("classification", "release")
    assert decide(b, "SECRET//REL TO USA, JPN, KOR") == ("release",)
    assert decide(b, "SECRET//REL TO USA, ACM") == ()  # ACM is USA and JPN: the same reach
    assert decide(b, "SECRET//REL TO USA, QUAD") == ("release",)
    assert decide("SECRET//NOFORN", b) == ("release",)
    assert decide("U//REL TO USA, JPN", "U") == ("release",)
    assert decide(b + "//EXERCISE", b) == ("exercise",)
    assert decide(b, "//JPN SECRET//REL TO USA, JPN") == ("originator",)
    assert decide(b, "SECRET//REL TO USA, KOR", roles=["admin"]) == ("release",)
    # Nobody else may: another node, another nation, no classification role.
    for who in ({"node_id": "jjoc"}, {"nation": "JPN"}, {"roles": ["requester", "watch"]}):
        assert decide(b, "UNCLASSIFIED", **who) is None, who
        # ... but each may restrict, or change nothing.
        assert decide(b, "SECRET//NOFORN", **who) == ()
        assert decide(b, "TOP SECRET//REL TO USA, JPN//EXERCISE", **who) == ()
        assert decide(b, b, **who) == ()
