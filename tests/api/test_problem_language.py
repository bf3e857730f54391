"""Errors in the caller's language: every refusal a person reads comes from a catalog.

Checked three ways: the source (no refusal raised with literal English), the catalogs (each
key in both languages with the same placeholders, each key a refusal names present), and a
node answering in Japanese when asked.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import kizuna
from kizuna.api.language import choose_language, validation_message
from kizuna.core.catalog import LANGUAGES, Catalog, _load, missing_keys
from kizuna.core.errors import KizunaError
from tests.nodes import NodeProcess

SRC = Path(kizuna.__file__).parent
ERRORS = {"Problem"} | {
    cls.__name__
    for cls in (KizunaError, *KizunaError.__subclasses__())
    for cls in (cls, *cls.__subclasses__())
}


def _modules() -> Iterator[tuple[str, Path]]:
    for info in pkgutil.walk_packages([str(SRC)], "kizuna."):
        spec = importlib.util.find_spec(info.name)
        if spec and spec.origin and spec.origin.endswith(".py"):
            yield info.name, Path(spec.origin)


def _is_text(node: ast.expr) -> bool:
    """Literal text: a string, an f-string, text joined or formatted, or ``str(...)``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_text(node.left) or _is_text(node.right)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id == "str":
            return True
        if isinstance(func, ast.Attribute) and func.attr in ("format", "join"):
            return True
    return False


def _raises(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            func = node.exc.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in ERRORS:
                yield node.exc


def test_no_refusal_is_raised_with_literal_text() -> None:
    found = []
    for _, path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _raises(tree):
            detail = call.args[0] if call.args else None
            if detail is None or _is_text(detail):
                found.append(f"{path.relative_to(SRC.parent)}:{call.lineno}")
    assert not found, "refusals with literal text, not a catalog message:\n" + "\n".join(found)


def _catalogs() -> list[str]:
    return sorted(
        f"kizuna.{p.parent.parent.relative_to(SRC).as_posix().replace('/', '.')}"
        for p in SRC.rglob("i18n/en.toml")
    )


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


@pytest.mark.parametrize("package", _catalogs())
def test_each_catalog_is_complete(package: str) -> None:
    assert missing_keys(package) == {lang: [] for lang in LANGUAGES}


def _needs(catalog: Catalog, key: str) -> set[str]:
    """The placeholders of a message in either language (a language may use its own)."""
    return set().union(*(_fields(_load(catalog.package, lang)[key]) for lang in LANGUAGES))


def _catalog_names(module: str) -> dict[str, Catalog]:
    mod = importlib.import_module(module)
    return {k: v for k, v in vars(mod).items() if isinstance(v, Catalog)}


def test_every_message_a_module_names_is_in_its_catalog() -> None:
    wrong = []
    for name, path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr in ("msg", "get", "text")
            and isinstance(n.func.value, ast.Name)
        ]
        if not calls:
            continue
        catalogs = _catalog_names(name)
        for call in calls:
            assert isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
            catalog = catalogs.get(call.func.value.id)
            position = 1 if call.func.attr == "get" else 0
            key_arg = call.args[position] if len(call.args) > position else None
            if catalog is None or not isinstance(key_arg, ast.Constant):
                continue
            key = str(key_arg.value)
            where = f"{path.relative_to(SRC.parent)}:{call.lineno}"
            if not catalog.has(key):
                wrong.append(f"{where}: no key {key!r} in {catalog.package}")
                continue
            given = {k.arg for k in call.keywords}
            if None not in given and not _needs(catalog, key) <= given:
                wrong.append(f"{where}: {key!r} needs {sorted(_needs(catalog, key))}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("ja", "ja"),
        ("ja-JP,ja;q=0.9,en;q=0.8", "ja"),
        ("en-US,en;q=0.9,ja;q=0.8", "en"),
        ("fr, ja;q=0.5", "ja"),
        ("fr", "en"),
        ("ja;q=0, en", "en"),
        ("*", "en"),
        ("ja;q=bogus", "en"),
    ],
)
def test_accept_language_picks_the_best_catalog(header: str | None, language: str) -> None:
    assert choose_language(header) == language


def test_validation_messages_in_japanese() -> None:
    assert (
        validation_message("Expected `int`, got `str` - at `$.a`", "ja")
        == "`int` が必要ですが `str` でした（位置: `$.a`）"
    )
    assert validation_message("Object missing required field `title`", "ja") == (
        "必須フィールド `title` がありません"
    )
    assert validation_message("Object missing required field `a`", "en") == (
        "Object missing required field `a`"
    )
    assert validation_message("something new", "ja") == "検証に失敗しました: something new"


@pytest.fixture
def alice(node_factory: Callable[..., NodeProcess]) -> httpx.Client:
    return node_factory("usfj", "USA").user("alice", "USA", "SECRET")


def _ask(client: httpx.Client, method: str, path: str, lang: str, **kw: Any) -> dict[str, Any]:
    res = client.request(method, path, headers={"Accept-Language": lang}, **kw)
    assert res.headers["content-type"].startswith("application/problem+json"), res.text
    body = res.json()
    assert isinstance(body, dict)
    return body


def _japanese(text: object) -> bool:
    return any("\u3040" <= c <= "\u9fff" for c in str(text))


def test_an_error_asked_for_in_japanese_comes_in_japanese(alice: httpx.Client) -> None:
    en = _ask(alice, "GET", "/api/v1/requests/nope", "en")
    ja = _ask(alice, "GET", "/api/v1/requests/nope", "ja-JP, en;q=0.5")
    assert (en["status"], ja["status"]) == (404, 404)
    assert en["title"] == "Not found" and ja["title"] == "見つかりません"
    assert not _japanese(en["detail"]) and _japanese(ja["detail"])


def test_a_bad_body_is_explained_in_japanese(alice: httpx.Client) -> None:
    ja = _ask(alice, "POST", "/api/v1/reports", "ja", json={"title": 5})
    assert ja["status"] in (400, 422) and _japanese(ja["title"]) and _japanese(ja["detail"])
    en = _ask(alice, "POST", "/api/v1/reports", "en", json={"title": 5})
    assert en["status"] == ja["status"] and not _japanese(en["detail"])


def test_a_bad_login_and_a_bad_token_in_japanese(node_factory: Callable[..., NodeProcess]) -> None:
    node = node_factory("usfj", "USA")
    with httpx.Client(base_url=node.url, headers={"Accept-Language": "ja"}) as anon:
        res = anon.post("/api/v1/login", json={"name": "x", "password": "y"})
        assert res.status_code == 401 and res.json()["detail"] == "名前またはパスワードが違います"
        res = anon.get("/api/v1/reports", headers={"Authorization": "Bearer nope"})
        assert res.status_code == 401 and res.json()["title"] == "認証されていません"
