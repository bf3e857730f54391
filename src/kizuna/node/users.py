"""Users: bearer tokens and passwords, stored hashed."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from kizuna.core.labels import Classification, GroupRegistry
from kizuna.core.release import Principal, make_principal
from kizuna.store.base import User

ROLES = frozenset({"admin", "watch", "liaison", "requester", "responder", "viewer"})


def new_token() -> str:
    return "kz_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # Tokens are 256 random bits: a plain SHA-256 is a sound stored verifier.
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(got.hex(), digest)


def make_user(
    name: str,
    nation: str,
    clearance: str,
    groups: list[str],
    roles: list[str],
    registry: GroupRegistry,
    password: str | None = None,
) -> tuple[User, str]:
    """Validate and build a user; returns it with its token (shown once)."""
    if (
        not name
        or len(name) > 64
        or not name.replace("-", "").replace("_", "").replace(".", "").isalnum()
    ):
        raise ValueError("user name must be 1-64 letters, digits, '.', '-' or '_'")
    level = Classification.parse(clearance)
    unknown = sorted(set(roles) - ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(unknown)} (known: {', '.join(sorted(ROLES))})")
    principal = make_principal(nation, level, groups, name=name, registry=registry)
    token = new_token()
    user = User(
        name=name,
        nation=principal.nation,
        clearance=level.name,
        groups=sorted({g.upper() for g in groups}),
        roles=sorted(set(roles)),
        token_hash=hash_token(token),
        password_hash=hash_password(password) if password else "",
    )
    return user, token


def principal_of(user: User, registry: GroupRegistry) -> Principal:
    return make_principal(
        user.nation, Classification[user.clearance], user.groups, name=user.name, registry=registry
    )
