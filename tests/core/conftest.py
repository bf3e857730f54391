"""Hypothesis profiles for the core property tests.

* ``dev`` (default): about 500 examples per property, quick enough to run often.
* ``ci``: 10,000 examples per property, loaded when the ``CI`` environment
  variable is set to anything but ``""``, ``0``, ``false`` or ``no`` (``CI=true``).

``HYPOTHESIS_PROFILE=<name>`` picks a profile explicitly. Individual tests
never set ``max_examples``: a per-test setting would override the profile.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=500, deadline=None)
settings.register_profile(
    "ci",
    max_examples=10_000,
    deadline=None,  # shared CI machines are noisy; a slow example is not a failure
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,  # a failure prints the blob that reproduces it
)


def _profile() -> str:
    explicit = os.environ.get("HYPOTHESIS_PROFILE")
    if explicit:
        return explicit
    ci = os.environ.get("CI", "").strip().lower()
    return "ci" if ci not in ("", "0", "false", "no") else "dev"


settings.load_profile(_profile())
