"""Storage: the append-only event log, projections, users, audit anchor."""
