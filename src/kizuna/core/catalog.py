"""Server-side message catalogs: each package's ``i18n/en.toml`` and ``i18n/ja.toml``.

Text a node generates for people (an incident's English title built from JMA's fields, a
SITREP's headings) comes from these catalogs, never from string literals in code. A catalog
is a flat TOML table of ``key = "text with {placeholders}"``; :func:`missing_keys` is what the
completeness test checks, so a key present in one language and not the other fails the build.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from kizuna.core.records import Text

LANGUAGES = ("en", "ja")


@cache
def _load(package: str, language: str) -> dict[str, str]:
    source = resources.files(package).joinpath("i18n", f"{language}.toml")
    table = tomllib.loads(source.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in table.items()}


class Catalog:
    """The messages of one package, e.g. ``Catalog("kizuna.incidents")``."""

    def __init__(self, package: str) -> None:
        self.package = package

    def get(self, language: str, key: str, **values: Any) -> str:
        """The message in one language, its placeholders filled (KeyError: no such key)."""
        return _load(self.package, language)[key].format(**values)

    def text(self, key: str, **values: Any) -> Text:
        """The message in both languages."""
        return Text(en=self.get("en", key, **values), ja=self.get("ja", key, **values))

    def has(self, key: str) -> bool:
        return key in _load(self.package, "en")

    def msg(self, key: str, **values: Any) -> Message:
        """A message to render later in the reader's language (an error's detail)."""
        return Message(self, key, values)


class Message:
    """A catalog message not yet rendered: an error raised in a service is rendered in the
    caller's language by the API (``str()`` is the English text, for logs and the CLI)."""

    __slots__ = ("catalog", "key", "values")

    def __init__(self, catalog: Catalog, key: str, values: dict[str, Any]) -> None:
        self.catalog = catalog
        self.key = key
        self.values = values

    def render(self, language: str) -> str:
        """The text in ``language``; values that are messages themselves (a refusal that
        wraps another) are rendered in the same language."""
        lang = language if language in LANGUAGES else "en"
        values = {
            k: v.render(lang) if isinstance(v, Message) else v for k, v in self.values.items()
        }
        return self.catalog.get(lang, self.key, **values)

    def __str__(self) -> str:
        return self.render("en")

    def __repr__(self) -> str:
        return f"Message({self.catalog.package!r}, {self.key!r})"


def missing_keys(package: str) -> dict[str, list[str]]:
    """Keys each language lacks that another has (empty lists when complete)."""
    tables = {lang: _load(package, lang) for lang in LANGUAGES}
    every = set().union(*tables.values())
    return {lang: sorted(every - set(t)) for lang, t in tables.items()}
