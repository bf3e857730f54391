"""The node's OpenAPI document says exactly what the API accepts.

Litestar builds the document from the route handlers, but loses most of what a request
body's msgspec types decode and check: ``forbid_unknown_fields`` (``additionalProperties:
false``), the ``Meta`` constraints of optional fields, of list items and of the body
itself. :func:`refine` therefore replaces every JSON request body's schema with the one
msgspec derives from the very type it decodes the body with, and merges msgspec's
components into the document (they are exact for the answers too).

Some checks are made after decoding, by the services, against core rules: the security
marking grammar (with this node's nation and groups), the bilingual title and body limits,
the ranges of a position. A field of a request type names such a rule with
``Meta(extra_json_schema={TAG: "<rule>"})`` (see the models of the domains);
:func:`refine` replaces it with a schema of that rule:

* ``"marking"``: a security marking this node can parse (the ``Marking`` component);
* ``"marking-or-empty"``: the same, or ``""`` (a PATCH leaves the label as it is);
* ``"not-blank"``, ``"blank"``: a text with more than white space (as ``str.strip``
  sees it), or with nothing else;
* ``"position"``: a :class:`~kizuna.core.records.Position` (latitude -90..90, longitude
  -180..180), checked when it is decoded;
* ``{"text": NAME, "max_length": N, "needs_text": BOOL}``: a bilingual
  :class:`~kizuna.core.records.Text` of at most N characters a language, with English or
  Japanese text that is not blank if ``needs_text`` (checked by the services), as the
  component NAME.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request
from litestar.enums import RequestEncodingType
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute

from kizuna.core.labels import COUNTRIES, GroupRegistry

TAG = "x-kizuna-rule"  # the key of a field's rule in its extra JSON schema
MAX_MARKING = 512  # core/labels.py: a marking is at most 512 characters
REF = "#/components/schemas/{name}"

# What str.strip() and str.split() take for white space: a text of nothing else is blank.
_BLANK = (
    "\\t\\n\\u000b\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
NOT_BLANK = f"[^{_BLANK}]"  # a pattern found in every text that is not blank
BLANK = f"^[{_BLANK}]*$"  # the pattern of a blank text


# -- security markings ------------------------------------------------------------------


def _ci(word: str) -> str:
    """``word`` in any case, as a pattern (``REL`` -> ``[Rr][Ee][Ll]``)."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


def _alt(options: Iterable[str]) -> str:
    return "(?:" + "|".join(options) + ")"


def _codes(codes: Iterable[str]) -> str:
    """Any of ``codes`` (upper-case letters and digits), in any case, grouped by first letter."""
    by_first: dict[str, list[str]] = {}
    for code in sorted(set(codes)):
        by_first.setdefault(code[0], []).append(code[1:])
    return _alt(_ci(first) + _alt(_ci(rest) for rest in rests) for first, rests in by_first.items())


def marking_pattern(nation: str, groups: GroupRegistry) -> str:
    """A pattern of exactly the markings :func:`kizuna.core.labels.parse_label` accepts on a
    node of ``nation`` with ``groups`` (the originator, when named, is the node's nation).

    ``[EXERCISE//] [//CCC ] CLASSIFICATION`` then, each at most once, ``REL TO`` a list of
    country codes and groups, ``NOFORN`` (classified, without ``REL TO``), ``EXERCISE``
    (unless it leads); any case, spaces around words and segments.
    """
    code = _codes([*COUNTRIES, *groups.names()])
    rel = f"{_ci('REL')}(?: +{_ci('TO')})? +{code}(?: *[,;] *{code})*"
    noforn = _alt([_ci("NOFORN"), _ci("NF")])
    exercise = _ci("EXERCISE")
    unclassified = _alt([_ci("UNCLASSIFIED"), _ci("U")])
    classified = _alt(
        [
            _ci("CONFIDENTIAL"),
            _ci("C"),
            _ci("SECRET"),
            _ci("S"),
            f"{_ci('TOP')} +{_ci('SECRET')}",
            _ci("TOP_SECRET"),
            _ci("TS"),
        ]
    )

    def seg(*options: str) -> str:  # one more segment
        return f"// *{_alt(options)} *"

    def opt(pattern: str) -> str:
        return f"(?:{pattern})?"

    # The segments after the classification: each at most once, NOFORN never with REL TO
    # nor unclassified, EXERCISE not again when it leads.
    after_u = opt(f"{seg(rel)}{opt(seg(exercise))}|{seg(exercise)}{opt(seg(rel))}")
    after_c = opt(f"{seg(rel, noforn)}{opt(seg(exercise))}|{seg(exercise)}{opt(seg(rel, noforn))}")
    origin = f"{_ci(nation)} +"
    # A marking that starts with '//' names its originator (//USA SECRET).
    head = _alt([f"// *{origin}", f" *{opt(origin)}"])
    led = _alt([f"// *{exercise} *// *{origin}", f" *{exercise} *// *{opt(origin)}"])
    body = _alt(
        [
            f"{head}{unclassified} *{after_u}",
            f"{head}{classified} *{after_c}",
            f"{led}{unclassified} *{opt(seg(rel))}",
            f"{led}{classified} *{opt(seg(rel, noforn))}",
        ]
    )
    return f"^ *{body} *$"


def marking_schema(nation: str, groups: GroupRegistry) -> dict[str, Any]:
    known = ", ".join(groups.names())
    return {
        "type": "string",
        "title": "Marking",
        "description": (
            "A security marking, e.g. `SECRET//REL TO USA, JPN` or `U`: "
            "[EXERCISE//] [//CCC ] classification (UNCLASSIFIED, CONFIDENTIAL, SECRET, "
            "TOP SECRET or U, C, S, TS), then at most once each: REL TO a list of ISO 3166 "
            f"alpha-3 country codes and groups ({known}), NOFORN (classified only, never with "
            f"REL TO), EXERCISE. Any case. A named originator must be this node's nation "
            f"({nation}). What a caller may write is decided by the ingress rule (403)."
        ),
        "minLength": 1,
        "maxLength": MAX_MARKING,
        "pattern": marking_pattern(nation, groups),
    }


# -- the rules fields name ------------------------------------------------------------

POSITION = {
    "type": "object",
    "title": "PositionIn",
    "description": "A position: latitude -90..90, longitude -180..180 (degrees)",
    "properties": {
        "lat": {"type": "number", "minimum": -90.0, "maximum": 90.0},
        "lon": {"type": "number", "minimum": -180.0, "maximum": 180.0},
    },
    "required": ["lat", "lon"],
    "additionalProperties": False,
}


def text_schema(name: str, max_length: int, needs_text: bool) -> dict[str, Any]:
    """A bilingual :class:`~kizuna.core.records.Text` of at most ``max_length`` characters
    a side; with ``needs_text``, English or Japanese text that is not blank."""
    description = f"Bilingual text, at most {max_length} characters in each language"
    schema: dict[str, Any] = {
        "type": "object",
        "title": name,
        "properties": {
            lang: {"type": "string", "maxLength": max_length, "default": ""}
            for lang in ("en", "ja")
        },
        "additionalProperties": False,
    }
    if needs_text:  # not blank in both languages (a language left out is blank)
        description += "; English or Japanese text is needed"
        schema["not"] = {"properties": {lang: {"pattern": BLANK} for lang in ("en", "ja")}}
    schema["description"] = description
    return schema


_ANNOTATIONS = ("title", "description", "default", "examples")


class _Rules:
    """Replaces the fields that name a rule; collects the components the rules refer to."""

    def __init__(self, nation: str, groups: GroupRegistry) -> None:
        self.components: dict[str, dict[str, Any]] = {"Marking": marking_schema(nation, groups)}

    def _component(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        held = self.components.setdefault(name, schema)
        if held != schema:
            raise ValueError(f"two different schemas for the component {name}")
        return {"$ref": REF.format(name=name)}

    def _rule(self, rule: Any) -> dict[str, Any]:
        if rule == "marking":
            return {"$ref": REF.format(name="Marking")}
        if rule == "marking-or-empty":
            return {"anyOf": [{"$ref": REF.format(name="Marking")}, {"const": ""}]}
        if rule == "not-blank":
            return {"pattern": NOT_BLANK}
        if rule == "blank":
            return {"pattern": BLANK}
        if rule == "position":
            return self._component("PositionIn", POSITION)
        if isinstance(rule, dict) and set(rule) == {"text", "max_length", "needs_text"}:
            name = rule["text"]
            return self._component(
                name, text_schema(name, int(rule["max_length"]), bool(rule["needs_text"]))
            )
        raise ValueError(f"unknown {TAG} {rule!r}")

    def apply(self, schema: Any) -> Any:
        """``schema`` with every field that names a rule replaced by the rule's schema, and
        a ``$ref`` with other keywords beside it spelled as ``allOf``."""
        if isinstance(schema, list):
            return [self.apply(s) for s in schema]
        if not isinstance(schema, dict):
            return schema
        if TAG in schema:
            kept = {k: schema[k] for k in _ANNOTATIONS if k in schema}
            rule = self._rule(schema[TAG])
            if "anyOf" in schema:  # Annotated[X | None, Meta(...)]: the rule is for X
                branches = [b if b == {"type": "null"} else rule for b in schema["anyOf"]]
                return {"anyOf": branches, **kept}
            return {**rule, **kept}
        out = {key: self.apply(value) for key, value in schema.items()}
        if isinstance(out.get("anyOf"), list):  # a rule's anyOf inside an optional's: one
            out["anyOf"] = [
                branch
                for sub in out["anyOf"]
                for branch in (sub["anyOf"] if set(sub) == {"anyOf"} else [sub])
            ]
        if "$ref" in out and set(out) - {"$ref", *_ANNOTATIONS}:
            ref = {"$ref": out.pop("$ref")}
            kept = {k: out.pop(k) for k in _ANNOTATIONS if k in out}
            out = {"allOf": [ref, out], **kept}
        return out


# -- the document -----------------------------------------------------------------------


def _json_bodies(app: Litestar) -> list[tuple[str, str, Any]]:
    """(path, method, the type the body is decoded as) of every route that takes JSON."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.include_in_schema:
                continue
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is None:
                continue
            media = getattr(data.kwarg_definition, "media_type", None)
            if media not in (None, RequestEncodingType.JSON):
                continue
            metas = [m for m in data.metadata if isinstance(m, msgspec.Meta)]
            body = Annotated[(data.annotation, *metas)] if metas else data.annotation
            for method in sorted(handler.http_methods):
                found.append((route.path_format or "/", method.lower(), body))
    return found


def refine(
    schema: dict[str, Any], app: Litestar, nation: str, groups: GroupRegistry
) -> dict[str, Any]:
    """The document ``schema`` (Litestar's) with request bodies as msgspec decodes them."""
    doc = copy.deepcopy(schema)
    bodies = _json_bodies(app)
    if not bodies:
        return doc
    body_schemas, components = msgspec.json.schema_components(
        [body for _, _, body in bodies], ref_template=REF
    )
    rules = _Rules(nation, groups)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name, component in components.items():
        schemas[name] = rules.apply(component)
    for (path, method, _), body_schema in zip(bodies, body_schemas, strict=True):
        operation = doc["paths"][path][method]
        request_body = operation.setdefault("requestBody", {"required": True})
        request_body["content"] = {"application/json": {"schema": rules.apply(body_schema)}}
    schemas.update(rules.components)
    doc["components"]["schemas"] = dict(sorted(schemas.items()))
    return doc


class DocumentJson(JsonRenderPlugin):
    """Serves ``openapi.json`` as :func:`refine` makes it (once per app)."""

    def __init__(self, nation: str, groups: GroupRegistry) -> None:
        super().__init__()
        self.nation = nation
        self.groups = groups
        self._rendered: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._rendered is None:
            self._rendered = self.render_json(
                request, refine(openapi_schema, request.app, self.nation, self.groups)
            )
        return self._rendered


__all__ = ["TAG", "DocumentJson", "marking_pattern", "refine", "text_schema"]
