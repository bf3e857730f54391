"""Stand-ins for what a source plugin is given: the picture's two calls, an opened node."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from kizuna.picture.models import Track


class FakePicture:
    """``ingest`` keeps the tracks and tells ``on_tracks`` listeners, as the picture does."""

    def __init__(self) -> None:
        self.tracks: list[Track] = []
        self.listeners: list[Callable[[list[Track]], None]] = []

    def ingest(self, tracks: Iterable[Track]) -> None:
        batch = list(tracks)
        self.tracks += batch
        for listener in self.listeners:
            listener(batch)

    def on_tracks(self, callback: Callable[[list[Track]], None]) -> None:
        self.listeners.append(callback)


class FakeHandle:
    def __init__(self, services: dict[str, Any]) -> None:
        self.services = services
        self.closed = False

    def service(self, name: str) -> Any:
        return self.services[name]

    def close(self) -> None:
        self.closed = True
