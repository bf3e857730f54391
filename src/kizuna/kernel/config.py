"""A node's directory: TOML configuration, keys and certificates, database, audit log."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import msgspec

from kizuna.core.labels import COUNTRIES, GroupRegistry

# What a sharing agreement lets flow unless it says otherwise: the picture, reports,
# coordination requests, the witnessed audit head (ADR 0008), the HADR records (ADR 0012) and
# the MDA events, zones and watchlists.
# Labels still decide, record by record, what the peer receives.
DEFAULT_TYPES = (
    "report",
    "track",
    "request",
    "audit_head",
    "incident",
    "rfa",
    "offer",
    "task",
    "shelter",
    "capability",
    "stock",
    "relief_plan",
    "mda_event",
    "mda_zone",
    "mda_watch",
    "access_arrangement",
    "training_area",
    "reservation",
    "exercise",
    "inject",
    "exercise_override",
    "unit",
    "unit_relation",
    "working_group",
    "meeting",
    "action_item",
    "liaison_entry",
)


class PeerConfig(msgspec.Struct, kw_only=True):
    """A peer node and the sharing agreement with it."""

    peer_id: str
    nation: str
    url: str
    cert: str  # path of the peer's node certificate (PEM), relative to the node dir
    types: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_TYPES))
    transport: str = "https"  # a `kizuna.transports` entry point
    max_classification: str = "SECRET"
    relay: bool = False
    groups: list[str] = []


class Limits(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The ``[limits]`` table of ``node.toml``: session lifetime and token-bucket rate limits.

    A bucket holds up to ``*_burst`` requests and refills at ``*_rate`` per second; a burst
    of 0 turns that limit off. Writes (POST, PATCH, PUT, DELETE) are counted per user; login
    attempts per client address, and failed ones per login name (a success gives its
    attempt back)."""

    session_ttl: float = 12 * 3600.0  # seconds a login session lasts
    write_burst: int = 2000
    write_rate: float = 500.0
    login_burst: int = 10  # failed logins per name
    login_rate: float = 0.1  # one more every 10 s
    login_address_burst: int = 30  # login attempts per client address
    login_address_rate: float = 1.0

    def __post_init__(self) -> None:
        if self.session_ttl <= 0:
            raise ValueError("[limits] session_ttl must be positive")
        for key in ("write", "login", "login_address"):
            if getattr(self, f"{key}_burst") < 0 or getattr(self, f"{key}_rate") < 0:
                raise ValueError(f"[limits] {key}_burst and {key}_rate must not be negative")


class NodeConfig(msgspec.Struct, kw_only=True):
    node_id: str
    nation: str
    host: str = "127.0.0.1"
    port: int = 8000
    federation_port: int = 0  # 0: port + 1
    store: str = "sqlite"  # a `kizuna.backends` entry point name, or a URL whose scheme names one
    groups: dict[str, list[str]] = {}
    peers: list[PeerConfig] = []
    max_body_bytes: int = 1_048_576
    limits: Limits = msgspec.field(default_factory=lambda: Limits())  # [limits]
    # Each plugin's own settings: a TOML table named after the plugin (``[cot]``, ``[ais]``).
    plugins: dict[str, dict[str, Any]] = {}

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def fed_port(self) -> int:
        return self.federation_port or self.port + 1

    @property
    def federation_url(self) -> str:
        return f"https://{self.host}:{self.fed_port}"

    def group_registry(self) -> GroupRegistry:
        return GroupRegistry(self.groups)


class NodeDir:
    """Paths inside a node directory."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    config = property(lambda self: self.root / "node.toml")
    db = property(lambda self: self.root / "kizuna.db")
    audit = property(lambda self: self.root / "audit.log")
    ca_cert = property(lambda self: self.root / "ca.pem")
    ca_key = property(lambda self: self.root / "ca.key")
    node_cert = property(lambda self: self.root / "node.pem")
    node_key = property(lambda self: self.root / "node.key")
    peers = property(lambda self: self.root / "peers")

    def exists(self) -> bool:
        return bool(self.config.exists())

    def load(self) -> NodeConfig:
        if not self.config.exists():
            raise FileNotFoundError(f"{self.root} is not a Kizuna node directory (no node.toml)")
        data = tomllib.loads(self.config.read_text(encoding="utf-8"))
        own = {f.name for f in msgspec.structs.fields(NodeConfig)}
        plugins = {k: v for k, v in data.items() if k not in own and isinstance(v, dict)}
        data = {k: v for k, v in data.items() if k in own and k != "plugins"}
        try:
            config = msgspec.convert({**data, "plugins": plugins}, NodeConfig)
        except msgspec.ValidationError as exc:
            raise ValueError(f"{self.config}: {_toml_path(str(exc), data)}") from None
        return validate(config)

    def save(self, config: NodeConfig) -> None:
        data = msgspec.to_builtins(config)
        plugins = data.pop("plugins", {})
        self.config.write_text(to_toml({**data, **plugins}), encoding="utf-8")


def _toml_path(message: str, data: dict[str, Any]) -> str:
    """msgspec's ``… - at `$.limits.login_rate``` as the TOML reader sees it:
    ``… (in [limits] login_rate)``."""
    text, sep, where = message.rpartition(" - at `$.")
    if not sep:
        return message
    parts = where.rstrip("`").split(".")
    if len(parts) > 1:
        return f"{text} (in [{parts[0]}] {'.'.join(parts[1:])})"
    table = isinstance(data.get(parts[0].split("[")[0]), dict | list)
    return f"{text} (in [{parts[0]}])" if table else f"{text} (in {parts[0]})"


def validate(config: NodeConfig) -> NodeConfig:
    if config.nation not in COUNTRIES:
        raise ValueError(f"unknown nation {config.nation!r}: use an ISO 3166 alpha-3 code")
    if not config.node_id.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"node id {config.node_id!r} must be letters, digits, '-' or '_'")
    config.group_registry()  # raises on bad group definitions
    return config


def to_toml(data: dict[str, Any]) -> str:
    """Write the small TOML subset our config uses (scalars, lists, tables, table arrays)."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    arrays: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            arrays.append((key, value))
        elif isinstance(value, list) and not value and key == "peers":
            continue
        else:
            lines.append(f"{key} = {_scalar(value)}")
    for key, table in tables:
        lines += ["", f"[{key}]"] + [f"{k} = {_scalar(v)}" for k, v in table.items()]
    for key, items in arrays:
        for item in items:
            lines += ["", f"[[{key}]]"] + [f"{k} = {_scalar(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
