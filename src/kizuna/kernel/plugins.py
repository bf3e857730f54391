"""Finding plugins: entry points in the ``kizuna.*`` groups, ordered by what they require."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any

from kizuna.kernel.contract import Domain

DOMAINS = "kizuna.domains"
BACKENDS = "kizuna.backends"
TRANSPORTS = "kizuna.transports"


class PluginError(RuntimeError):
    pass


def _group(group: str) -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=group)}


def load_domains() -> list[Domain]:
    """Every installed domain, each after the domains it requires."""
    found: dict[str, Domain] = {}
    for name, ep in sorted(_group(DOMAINS).items()):
        plugin = ep.load()
        domain = plugin() if isinstance(plugin, type) else plugin
        if not isinstance(domain, Domain):
            raise PluginError(f"entry point {name!r} in {DOMAINS} is not a kizuna Domain")
        if domain.name != name:
            raise PluginError(f"entry point {name!r} names a domain called {domain.name!r}")
        found[name] = domain
    return order(found.values())


def order(domains: Iterable[Domain]) -> list[Domain]:
    """Topological order by ``requires``; a missing requirement or a cycle is an error."""
    by_name = {d.name: d for d in domains}
    done: dict[str, Domain] = {}
    visiting: set[str] = set()

    def visit(d: Domain) -> None:
        if d.name in done:
            return
        if d.name in visiting:
            raise PluginError(f"plugins require each other in a cycle through {d.name!r}")
        visiting.add(d.name)
        for need in d.requires:
            if need not in by_name:
                raise PluginError(f"plugin {d.name!r} requires {need!r}, which is not installed")
            visit(by_name[need])
        visiting.discard(d.name)
        done[d.name] = d

    for d in sorted(by_name.values(), key=lambda d: d.name):
        visit(d)
    return list(done.values())


def backend_factory(setting: str) -> Any:
    """The backend named by a ``store`` setting: a name (``sqlite``) or a URL's scheme."""
    scheme = setting.split(":", 1)[0] if ":" in setting else setting
    scheme = {"postgres": "postgresql"}.get(scheme, scheme)
    eps = _group(BACKENDS)
    if scheme not in eps:
        raise PluginError(f"no storage backend {scheme!r}; installed: {', '.join(sorted(eps))}")
    return eps[scheme].load()


def transport_factory(name: str) -> Any:
    eps = _group(TRANSPORTS)
    if name not in eps:
        raise PluginError(f"no federation transport {name!r}; installed: {', '.join(sorted(eps))}")
    return eps[name].load()
