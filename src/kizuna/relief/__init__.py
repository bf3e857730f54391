"""Capabilities, relief supplies, shelters and the needs calculator (issue 12)."""

from __future__ import annotations

from kizuna.kernel.contract import Domain


class Relief(Domain):
    name = "relief"
    requires = ()


plugin = Relief()
