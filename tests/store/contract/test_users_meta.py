"""Users and Meta contract."""

from __future__ import annotations

import pytest

from kizuna.store.base import Backend, User
from tests.store.contract.support import Opener

ALICE = User(
    name="alice",
    nation="USA",
    clearance="SECRET",
    groups=["ACM"],
    roles=["admin"],
    token_hash="h-alice",
    password_hash="pbkdf2$alice",
)


def test_users_by_name_and_by_token_hash(backend: Backend) -> None:
    users = backend.users
    users.add_user(ALICE)
    bob = User(name="bob", nation="JPN", clearance="CONFIDENTIAL", token_hash="h-bob")
    users.add_user(bob)
    assert users.user_by_name("alice") == ALICE
    assert users.user_by_token_hash("h-alice") == ALICE
    assert users.user_by_token_hash("h-bob") == bob
    assert users.user_by_name("carol") is None
    assert users.user_by_token_hash("h-carol") is None


def test_users_without_a_token_are_never_found_by_token(backend: Backend) -> None:
    users = backend.users
    users.add_user(User(name="carol", nation="USA", clearance="SECRET", password_hash="x"))
    users.add_user(User(name="dave", nation="USA", clearance="SECRET", password_hash="y"))
    assert users.user_by_token_hash("") is None
    carol = users.user_by_name("carol")
    assert carol is not None and carol.password_hash == "x"


def test_duplicate_user_names_and_tokens_are_rejected(backend: Backend) -> None:
    users = backend.users
    users.add_user(ALICE)
    with pytest.raises(Exception):  # noqa: B017 (the port names no error type yet)
        users.add_user(User(name="alice", nation="JPN", clearance="SECRET", token_hash="other"))
    with pytest.raises(Exception):  # noqa: B017
        users.add_user(User(name="eve", nation="USA", clearance="SECRET", token_hash="h-alice"))
    assert users.user_by_name("alice") == ALICE
    assert users.user_by_token_hash("h-alice") == ALICE
    assert users.user_by_token_hash("other") is None
    assert users.user_by_name("eve") is None


def test_users_survive_reopen(open_backend: Opener) -> None:
    backend = open_backend("usfj")
    backend.users.add_user(ALICE)
    backend = open_backend.reopen(backend)
    assert backend.users.user_by_name("alice") == ALICE
    assert backend.users.user_by_token_hash("h-alice") == ALICE


def test_meta_get_set_overwrite(backend: Backend) -> None:
    meta = backend.meta
    assert meta.meta_get("audit.head") is None
    meta.meta_set("audit.head", "abc")
    meta.meta_set("other", "")
    assert meta.meta_get("audit.head") == "abc"
    assert meta.meta_get("other") == ""
    meta.meta_set("audit.head", "def")
    assert meta.meta_get("audit.head") == "def"
    assert meta.meta_get("Audit.Head") is None  # keys are exact


def test_meta_survives_reopen(open_backend: Opener) -> None:
    backend = open_backend("usfj")
    backend.meta.meta_set("audit.head", "abc")
    backend.meta.meta_set("audit.head", "def")
    backend = open_backend.reopen(backend)
    assert backend.meta.meta_get("audit.head") == "def"
