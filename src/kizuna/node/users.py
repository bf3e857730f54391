"""Users: bearer tokens, login sessions and passwords, stored hashed; their limits.

A user's bearer token (``kizuna user add``, ``kizuna user token``) never expires unless
given ``--expires``; a login session expires ``session_ttl`` seconds after the login (12 h
by default). ``kizuna user revoke`` removes the user's token and every session (and the
password, unless ``--keep-password``); a running node notices within
``runtime.REVALIDATE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from datetime import UTC, datetime

import msgspec

from kizuna.core.labels import Classification, GroupRegistry
from kizuna.core.release import Principal, make_principal
from kizuna.store.base import User, Users

ROLES = frozenset(
    {
        "admin",
        "classifier",
        "watch",
        "liaison",
        "requester",
        "responder",
        "viewer",
        "exercise_control",  # moves injects, runs and ends exercises (exercises)
        "chair",  # chairs working groups: escalations reach them (workgroups)
        "action_officer",  # works action items (workgroups)
    }
)


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


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_expiry(text: str | None, now: float) -> float | None:
    """``--expires``: a duration (``90s``, ``30m``, ``12h``, ``30d``) or an ISO 8601 instant
    (UTC unless it names a zone); ``None``, ``""`` or ``never`` for no expiry. POSIX seconds."""
    if text is None or text.strip().lower() in ("", "never"):
        return None
    m = _DURATION.match(text.lower())
    if m:
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
        if seconds <= 0:
            raise ValueError(f"--expires {text!r}: the duration must be positive")
        return now + seconds
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--expires {text!r}: give a duration (90s, 30m, 12h, 30d), an ISO 8601 time, "
            "or 'never'"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    at = when.timestamp()
    if at <= now:
        raise ValueError(f"--expires {text!r} is in the past")
    return at


def revoke_user(users: Users, name: str, *, keep_password: bool = False) -> dict[str, int]:
    """Remove a user's bearer token and every login session (and the password, unless
    ``keep_password``). Raises ``KeyError`` for an unknown user."""
    user = users.user_by_name(name)
    if user is None:
        raise KeyError(name)
    had_token = bool(user.token_hash)
    had_password = bool(user.password_hash) and not keep_password
    users.update_user(
        msgspec.structs.replace(
            user,
            token_hash="",
            token_expires_at=None,
            password_hash=user.password_hash if keep_password else "",
        )
    )
    sessions = users.delete_sessions(name)
    return {"token": int(had_token), "sessions": sessions, "password": int(had_password)}


def reissue_token(
    users: Users, name: str, expires_at: float | None, password: str | None = None
) -> tuple[User, str]:
    """Give a user a new bearer token (the old one stops working), optionally a new password.
    Raises ``KeyError`` for an unknown user."""
    user = users.user_by_name(name)
    if user is None:
        raise KeyError(name)
    token = new_token()
    user = msgspec.structs.replace(
        user,
        token_hash=hash_token(token),
        token_expires_at=expires_at,
        password_hash=hash_password(password) if password else user.password_hash,
    )
    users.update_user(user)
    return user, token


def make_user(
    name: str,
    nation: str,
    clearance: str,
    groups: list[str],
    roles: list[str],
    registry: GroupRegistry,
    password: str | None = None,
    token_expires_at: float | None = None,
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
        token_expires_at=token_expires_at,
    )
    return user, token


def principal_of(user: User, registry: GroupRegistry) -> Principal:
    return make_principal(
        user.nation, Classification[user.clearance], user.groups, name=user.name, registry=registry
    )
