"""Children bounded by parents (issue 17, finding 3): an attachment or comment is never
labelled, shown or sent wider than its request, whatever label it was written with."""

from __future__ import annotations

import base64
import time

import pytest

from kizuna.coordination.models import AttachmentIn, CommentIn, RequestIn
from kizuna.coordination.rules import label_to_dict
from kizuna.core.errors import NotFound
from kizuna.core.hlc import pack
from kizuna.core.labels import parse_label
from kizuna.core.records import Event, Op, Text
from kizuna.kernel.testing import memory_context
from tests.coordination.inproc import caller, start


def attachment(label: str, content: bytes = b"unclassified annex") -> AttachmentIn:
    return AttachmentIn(
        name="annex.txt",
        media_type="text/plain",
        label=label,
        content=base64.b64encode(content).decode(),
    )


def ask(label: str, *files: AttachmentIn) -> RequestIn:
    return RequestIn(
        addressees=["jjoc"],
        kind="support",
        label=label,
        title=Text(en="Port access"),
        attachments=list(files),
    )


@pytest.mark.parametrize(
    ("request_label", "want"),
    [
        ("SECRET//NOFORN", "SECRET//NOFORN"),
        ("SECRET//REL TO USA, JPN", "SECRET//REL TO USA, JPN"),
        ("CONFIDENTIAL//REL TO USA, AUS", "CONFIDENTIAL//REL TO USA, AUS"),
    ],
)
def test_an_attachment_carries_the_stricter_of_its_own_and_its_requests_label(
    request_label: str, want: str
) -> None:
    ctx = memory_context()
    service = start(ctx)
    alice = caller(ctx, "alice", "USA", "SECRET", "requester")
    state = service.create(alice, ask(request_label, attachment("UNCLASSIFIED")))
    events = ctx.events.record_events("request", state.record_id)
    # The stored event, which is what federation judges and sends, carries the bound.
    assert [e.label.render() for e in events] == [want, want]
    view = service.view(alice, state)
    assert [a.label for a in view.attachments] == [want]


def test_children_from_a_peer_wider_than_their_request_are_bounded_when_read() -> None:
    """A peer (or an older node) sent a comment and an attachment labelled wider than the
    request: readers see the request's bound on both, and one who may not see the request
    gets nothing of them."""
    ctx = memory_context()
    service = start(ctx)
    secret = parse_label("SECRET//REL TO USA, JPN", originator="JPN")
    loose = parse_label("UNCLASSIFIED", originator="JPN")
    now = pack(int(time.time() * 1000), 0)
    content = b"annex for the bilateral plan"

    def event(seq: int, label: object, payload: dict[str, object]) -> Event:
        op: Op = "create" if seq == 1 else "patch"
        return Event(
            origin="jjoc",
            seq=seq,
            hlc=now + seq,
            record_type="request",
            record_id="r-jp",
            op=op,
            label=label,  # type: ignore[arg-type]
            payload=payload,
            author="kenji",
        )

    ctx.events.apply(
        [
            event(
                1,
                secret,
                {
                    "action": "create",
                    "set": {"addressees": ["usfj"], "kind": "support", "title": {"en": "Plan"}},
                },
            ),
            event(
                2,
                loose,
                {
                    "action": "attach",
                    "id": "a1",
                    "name": "annex.txt",
                    "media_type": "text/plain",
                    "content": content,
                },
            ),
            event(3, loose, {"action": "comment", "id": "c1", "text": {"en": "aside", "ja": ""}}),
        ]
    )
    assert label_to_dict(loose)["classification"] == 0  # the stored children really are loose
    alice = caller(ctx, "alice", "USA", "SECRET")
    view = service.view(alice, service.get(alice, "r-jp"))
    assert [a.label_fgi for a in view.attachments] == ["//JPN SECRET//REL TO USA, JPN"]
    assert [c.label_fgi for c in view.comments] == ["//JPN SECRET//REL TO USA, JPN"]
    assert [(c.classification, c.rel_to) for c in view.comments] == [("SECRET", ["USA", "JPN"])]
    _entry, got = service.attachment(alice, "r-jp", "a1")
    assert got == content

    # An AUS reader may see UNCLASSIFIED, not the request: neither the request nor its children.
    jack = caller(ctx, "jack", "AUS", "SECRET")
    with pytest.raises(NotFound):
        service.get(jack, "r-jp")
    with pytest.raises(NotFound):
        service.attachment(jack, "r-jp", "a1")


def test_a_comment_is_bounded_by_the_request_as_it_is_now() -> None:
    """The request narrowed after a comment was written: the comment narrows with it."""
    ctx = memory_context()
    service = start(ctx)
    alice = caller(ctx, "alice", "USA", "SECRET", "requester")
    state = service.create(
        alice, ask("SECRET//REL TO USA, AUS, JPN", attachment("SECRET//REL TO USA, AUS, JPN"))
    )
    rid = state.record_id
    service.comment(
        alice, rid, CommentIn(label="SECRET//REL TO USA, AUS, JPN", text=Text(en="shared"))
    )
    from kizuna.coordination.models import RequestPatch

    service.edit(alice, rid, RequestPatch(label="SECRET//REL TO USA, JPN"))
    kenji = caller(ctx, "kenji", "JPN", "SECRET")
    view = service.view(kenji, service.get(kenji, rid))
    assert [c.label for c in view.comments] == ["SECRET//REL TO USA, JPN"]
    assert [a.label for a in view.attachments] == ["SECRET//REL TO USA, JPN"]
