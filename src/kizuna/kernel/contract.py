"""The contract every plugin implements: a domain, a source, a backend or a transport.

A **domain** (and a source, which is a domain that brings data in) is an object
with a ``name``, what it ``requires``, its record types, its settings table, and
hooks the node calls while assembling itself:

* ``start(ctx)`` builds the domain's service from its :class:`NodeContext`;
* ``routes()`` returns Litestar handlers, which receive that service as the
  ``service`` dependency (and the caller as ``caller``);
* ``jobs(service)`` returns coroutines run while the node serves;
* ``streams(service)`` returns federated streams (records outside the event log);
* ``cli(open_node)`` returns Typer command groups mounted under ``kizuna``;
* ``init_options()`` adds options to ``kizuna init`` that fill its settings table.

Plugins are found through entry points (``kizuna.domains``, ``kizuna.backends``,
``kizuna.transports``), so a partner nation ships its own as a separate package.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import msgspec

from kizuna.core.labels import COUNTRIES, STANDARD_GROUPS, GroupRegistry, Label
from kizuna.core.merge import Merge, lww_merge
from kizuna.core.records import Event, RecordState

if TYPE_CHECKING:
    import typer

    from kizuna.kernel.context import NodeContext
    from kizuna.kernel.streams import FederatedStream

Job = Coroutine[Any, Any, None]


class PluginSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of a plugin's settings table; ``enabled = false`` keeps the plugin off."""

    enabled: bool = True


Ownership = Callable[[RecordState | None, Event], str | None]
"""Who may write a record: given the record's current state on this node (None: not held)
and an event a peer delivered, the reason to refuse it (None: the sender may write this).
Pure. Federation applies it to every received event before the event is applied."""


def origin_owns(state: RecordState | None, event: Event) -> str | None:
    """The default ownership rule (sovereignty): a record is written only by the node that
    originated it: once this node holds the record, an event of any other origin is
    refused (``not_owner``), a second create claiming the record included.

    A record held before its create arrived (later events overtook it, or its create was
    never releasable here and a wider patch was) is held as its first writer's, which is
    what the generic merge names its origin: the only writer a sovereign record has."""
    if state is None or event.origin == state.origin:
        return None
    return "not_owner"


class RecordType(msgspec.Struct, frozen=True, kw_only=True):
    """A record type in the event log: its pure merge and ownership rules, where it belongs.

    ``owner`` decides, for each event a peer delivers, whether its origin may write what
    it writes (content by the record's owner, responses by an addressee, transitions by
    the entitled party); refused events are counted, audited and not applied. A type
    with its own ``merge`` usually needs its own ``owner`` (the default reads the
    generic merge's state)."""

    name: str
    merge: Merge = lww_merge
    owner: Ownership = origin_owns
    # The record type whose label bounds this one's (comments of a request), if any.
    parent: str | None = None


# -- labels leaving the node ---------------------------------------------------


def node_groups(label: Label) -> list[str]:
    """The node-defined groups (ACM, …) in a label's REL TO list: their membership is
    each node's own, unlike FVEY and NATO, whose membership is fixed everywhere."""
    return sorted(c for c in label.rel_to if c not in COUNTRIES and c not in STANDARD_GROUPS)


def expand_groups(label: Label, groups: GroupRegistry) -> Label:
    """``label`` as it leaves this node for a peer: each node-defined group replaced by
    the nations this node defines it with, so the group means the originator's definition
    on every node (ADR 0007). A label without such groups is returned as is; a group this
    node does not know stays (and the peer refuses the item)."""
    own = node_groups(label)
    if not own:
        return label
    codes = set(label.rel_to)
    for name in own:
        if name in groups:
            codes.discard(name)
            codes |= groups.members(name)
    return Label(
        classification=label.classification,
        rel_to=frozenset(codes),
        noforn=label.noforn,
        exercise=label.exercise,
        originator=label.originator,
    )


class Feature(msgspec.Struct, frozen=True, kw_only=True):
    """One map feature a domain offers for export (KML, NVG, GeoJSON, CSV, TAK), already
    released to the reader it was built for; the exporter checks ``label`` again.

    ``geometry`` is a GeoJSON geometry (Point, LineString, Polygon, Multi*); ``name`` and
    ``description`` are bilingual (``{"en": …, "ja": …}``); ``properties`` are flat values
    (str, int, float, bool, None) the CSV and KML ExtendedData carry; ``sidc`` a
    MIL-STD-2525D symbol code where the domain has one."""

    id: str
    record_type: str
    name: dict[str, str]
    geometry: dict[str, Any]
    label: str  # Label.render() of the record's label, originator prefix included
    description: dict[str, str] = {}
    properties: dict[str, Any] = {}
    time: str | None = None  # ISO 8601 UTC: when the feature was observed or starts
    end: str | None = None  # ISO 8601 UTC: when it ends, for spans (reservations, events)
    sidc: str | None = None


class InitOption(msgspec.Struct, frozen=True, kw_only=True):
    """An option a plugin adds to ``kizuna init``; its value lands in the plugin's table.

    ``flag`` is the option (``--cot-port``); ``setting`` the key in the settings table.
    A boolean option with ``disables`` set turns the whole plugin off when given."""

    flag: str
    setting: str = ""
    help: str = ""
    type: type[Any] = str
    default: Any = None
    disables: bool = False


class NodeHandle(Protocol):
    """An opened node for CLI commands: the started services of its plugins."""

    def service(self, name: str) -> Any: ...

    def close(self) -> None: ...


OpenNode = Callable[[Path], NodeHandle]


class Domain:
    """Base class of a plugin that joins a node; override what the plugin has."""

    name: ClassVar[str] = ""
    requires: ClassVar[tuple[str, ...]] = ()
    settings: ClassVar[type[msgspec.Struct] | None] = None

    def record_types(self) -> Sequence[RecordType]:
        return ()

    def enabled(self, settings: msgspec.Struct | None) -> bool:
        """Whether the node starts this plugin with these settings (a source may be off)."""
        return bool(getattr(settings, "enabled", True))

    def start(self, ctx: NodeContext) -> Any:
        """Build the service; no I/O on the event loop, no background work yet."""
        return None

    def routes(self) -> Sequence[Any]:
        return ()

    def jobs(self, service: Any) -> Sequence[Job]:
        return ()

    def streams(self, service: Any) -> Sequence[FederatedStream[Any]]:
        return ()

    def federated_types(self) -> Sequence[str]:
        """Names a sharing agreement may list for this plugin (record types and streams)."""
        return [rt.name for rt in self.record_types()]

    def cli(self, open_node: OpenNode) -> Mapping[str, typer.Typer]:
        """Command groups to mount: ``{"tak": app}`` gives ``kizuna tak …``; a group that
        another plugin also names gets both plugins' commands (``kizuna ingest ais``)."""
        return {}

    def init_options(self) -> Sequence[InitOption]:
        return ()

    def features(self, service: Any, caller: Any) -> Sequence[Feature]:
        """The map features this domain exports for ``caller`` (a kernel ``Caller``, with
        its release ``principal``): only what the caller may see, read through the
        service's released reads."""
        return ()

    def imports(self) -> Sequence[str]:
        """Kinds of imported overlay this domain turns into its records (``zone``,
        ``training_area``, …): the importer hands each parsed file's features to the
        domain naming the kind the user asked for."""
        return ()

    def import_features(
        self, service: Any, caller: Any, kind: str, features: Sequence[Feature], marking: str
    ) -> Sequence[Any]:
        """Write ``features`` (parsed and checked by the importer) as records of ``kind``
        labelled ``marking``, authored by ``caller`` (its ingress rule applies); all or
        nothing. Returns the new records (or their ids)."""
        raise NotImplementedError(f"{self.name} imports nothing")

    def init_settings(self, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """The settings table ``kizuna init`` writes from this plugin's option values
        (None: write no table). The default takes each option's value under its key."""
        table = {
            opt.setting: values[opt.flag]
            for opt in self.init_options()
            if opt.setting and values.get(opt.flag) is not None
        }
        return table or None

    def stop(self, service: Any) -> None:
        """Release what ``start`` opened (commit pending state, close files)."""
