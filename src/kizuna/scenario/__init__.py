"""The demo's seeded scenario, one module per domain, each driving the nodes' HTTP API only
(``seed(jp, us, au)`` with logged-in ``httpx.Client`` objects for JJOC, USFJ and AUS)."""
