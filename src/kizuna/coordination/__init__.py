"""Coordination requests between commands: lifecycle, merge rules, API."""
