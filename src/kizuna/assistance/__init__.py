"""Requests for assistance, offers, commitments and tasks between nations (issue 12)."""

from __future__ import annotations

from kizuna.kernel.contract import Domain


class Assistance(Domain):
    name = "assistance"
    requires = ()


plugin = Assistance()
