"""The bilingual glossary (en,ja,status CSV) and the search the liaison log's hint uses."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import structlog

log = structlog.get_logger("kizuna.liaison")
MAX_RESULTS = 10
PARTIAL_MAX = 64  # a query this short also matches terms it is part of (typing a term)


@dataclass(frozen=True)
class Term:
    en: str
    ja: str
    status: str


@dataclass(frozen=True)
class Hit:
    term: Term
    matched: str  # "en" or "ja"


def load_glossary(path: Path | None) -> list[Term]:
    """The glossary's rows (rows without both terms are skipped); [] without a file."""
    if path is None:
        return []
    out = []
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                en, ja = (row.get("en") or "").strip(), (row.get("ja") or "").strip()
                if en and ja:
                    out.append(Term(en, ja, (row.get("status") or "").strip()))
    except OSError as exc:
        log.warning("glossary.unreadable", path=str(path), error=str(exc))
    return out


def _spans_en(term: str, text: str) -> list[tuple[int, int]]:
    pattern = r"(?<![\w])" + re.escape(term) + r"(?![\w])"
    return [m.span() for m in re.finditer(pattern, text, flags=re.IGNORECASE)]


def _spans_ja(term: str, text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(re.escape(term), text)]


def search(terms: list[Term], query: str) -> list[Hit]:
    """Terms that occur in ``query`` (English as whole words, any case; Japanese as is),
    longest first, a term inside a longer one found at the same place left out; then,
    for a short query, terms that contain it (typing a term in either language)."""
    text = query.strip()
    if not text:
        return []
    found: list[tuple[int, int, int, Hit]] = []  # (-length, start, end, hit)
    for t in terms:
        for lang, spans in (("en", _spans_en(t.en, text)), ("ja", _spans_ja(t.ja, text))):
            for start, end in spans:
                found.append((-(end - start), start, end, Hit(t, lang)))
    found.sort(key=lambda f: (f[0], f[1]))
    taken: list[tuple[int, int]] = []
    hits: list[Hit] = []
    for _, start, end, hit in found:
        if any(s <= start and end <= e for s, e in taken) or hit in hits:
            continue
        taken.append((start, end))
        hits.append(hit)
    if len(text) <= PARTIAL_MAX and len(text) >= 2:
        low = text.lower()
        partial = [
            Hit(t, "en" if low in t.en.lower() else "ja")
            for t in terms
            if low in t.en.lower() or text in t.ja
        ]
        partial.sort(key=lambda h: (not h.term.en.lower().startswith(low), len(h.term.en)))
        hits += [h for h in partial if all(h.term != x.term for x in hits)]
    return hits[:MAX_RESULTS]
