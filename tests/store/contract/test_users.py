"""Users contract: login sessions (stored hashed), token expiry, replacing a user's token,
revoking a user's sessions. Every backend implements these; the node decides what is expired."""

from __future__ import annotations

import pytest

from kizuna.store.base import Backend, Session, User
from tests.store.contract.support import Opener

HANA = User(
    name="hana",
    nation="JPN",
    clearance="SECRET",
    token_hash="h-hana",
    password_hash="scrypt$x$y",
    token_expires_at=2_000_000_000.5,
)


def session(token_hash: str, name: str = "hana", expires_at: float = 1_900_000_000.0) -> Session:
    return Session(
        token_hash=token_hash, name=name, created_at=1_800_000_000.25, expires_at=expires_at
    )


def test_token_expiry_is_kept(backend: Backend) -> None:
    users = backend.users
    users.add_user(HANA)
    users.add_user(User(name="kenji", nation="JPN", clearance="SECRET", token_hash="h-kenji"))
    assert users.user_by_token_hash("h-hana") == HANA
    kenji = users.user_by_name("kenji")
    assert kenji is not None and kenji.token_expires_at is None  # never expires


def test_sessions_by_token_hash(backend: Backend) -> None:
    users = backend.users
    users.add_user(HANA)
    users.add_session(session("s1"))
    users.add_session(session("s2", expires_at=1_950_000_000.0))
    assert users.session_by_token_hash("s1") == session("s1")
    assert users.session_by_token_hash("s2") == session("s2", expires_at=1_950_000_000.0)
    assert users.session_by_token_hash("s3") is None
    assert users.session_by_token_hash("") is None
    # A session is not a user's token, nor the other way round.
    assert users.user_by_token_hash("s1") is None
    assert users.session_by_token_hash("h-hana") is None


def test_duplicate_session_hashes_are_rejected(backend: Backend) -> None:
    users = backend.users
    users.add_user(HANA)
    users.add_session(session("s1"))
    with pytest.raises(Exception):  # noqa: B017 (the port names no error type yet)
        users.add_session(session("s1", expires_at=2_100_000_000.0))
    assert users.session_by_token_hash("s1") == session("s1")


def test_delete_one_session(backend: Backend) -> None:
    users = backend.users
    users.add_user(HANA)
    users.add_session(session("s1"))
    users.add_session(session("s2"))
    assert users.delete_session("s1") is True
    assert users.delete_session("s1") is False
    assert users.session_by_token_hash("s1") is None
    assert users.session_by_token_hash("s2") == session("s2")


def test_delete_a_users_sessions(backend: Backend) -> None:
    users = backend.users
    users.add_user(HANA)
    users.add_user(User(name="kenji", nation="JPN", clearance="SECRET"))
    for h in ("a", "b", "c"):
        users.add_session(session(h))
    users.add_session(session("k", name="kenji"))
    assert users.delete_sessions("hana") == 3
    assert users.delete_sessions("hana") == 0
    assert users.delete_sessions("nobody") == 0
    assert [users.session_by_token_hash(h) for h in ("a", "b", "c")] == [None] * 3
    assert users.session_by_token_hash("k") == session("k", name="kenji")


def test_purge_expired_sessions(backend: Backend) -> None:
    users = backend.users
    users.add_user(HANA)
    users.add_session(session("old", expires_at=100.0))
    users.add_session(session("edge", expires_at=200.0))
    users.add_session(session("new", expires_at=300.0))
    assert users.purge_sessions(200.0) == 2  # expired at or before the instant
    assert users.session_by_token_hash("old") is None
    assert users.session_by_token_hash("edge") is None
    assert users.session_by_token_hash("new") == session("new", expires_at=300.0)
    assert users.purge_sessions(200.0) == 0


def test_update_user_replaces_its_token(backend: Backend) -> None:
    users = backend.users
    users.add_user(HANA)
    users.add_user(User(name="kenji", nation="JPN", clearance="SECRET", token_hash="h-kenji"))
    rotated = User(
        name="hana",
        nation="JPN",
        clearance="SECRET",
        token_hash="h-new",
        token_expires_at=None,
    )
    users.update_user(rotated)
    assert users.user_by_token_hash("h-hana") is None
    assert users.user_by_token_hash("h-new") == rotated
    assert users.user_by_name("hana") == rotated
    # No token at all: found by name only.
    revoked = User(name="hana", nation="JPN", clearance="SECRET")
    users.update_user(revoked)
    assert users.user_by_token_hash("h-new") is None
    assert users.user_by_token_hash("") is None
    assert users.user_by_name("hana") == revoked


def test_update_user_refuses_unknown_users_and_taken_tokens(backend: Backend) -> None:
    users = backend.users
    users.add_user(HANA)
    users.add_user(User(name="kenji", nation="JPN", clearance="SECRET", token_hash="h-kenji"))
    with pytest.raises(KeyError):
        users.update_user(User(name="nobody", nation="JPN", clearance="SECRET"))
    assert users.user_by_name("nobody") is None
    with pytest.raises(Exception):  # noqa: B017
        users.update_user(User(name="hana", nation="JPN", clearance="SECRET", token_hash="h-kenji"))
    assert users.user_by_token_hash("h-hana") == HANA
    kenji = users.user_by_token_hash("h-kenji")
    assert kenji is not None and kenji.name == "kenji"


def test_sessions_and_updates_survive_reopen(open_backend: Opener) -> None:
    backend = open_backend("usfj")
    backend.users.add_user(HANA)
    backend.users.add_session(session("s1"))
    backend.users.add_session(session("s2"))
    backend.users.delete_session("s2")
    rotated = User(name="hana", nation="JPN", clearance="SECRET", token_hash="h-2")
    backend.users.update_user(rotated)
    backend = open_backend.reopen(backend)
    assert backend.users.session_by_token_hash("s1") == session("s1")
    assert backend.users.session_by_token_hash("s2") is None
    assert backend.users.user_by_token_hash("h-2") == rotated
    assert backend.users.user_by_token_hash("h-hana") is None
