"""Tag stage: which watchlist topics an item belongs to, with a score and what matched.

Pure. `Doc.of` tokenises an item once (positions per field); `match` walks a query tree over it
and returns the spans that made it true (or None); `tag` applies every topic:

  1. the topic's `exclude` query matches -> no tag, whatever else;
  2. the query matches -> score = 1 - exp(-sum of hit weights) (title hit 1.0, summary 0.5,
     feed/author 0.3, once per distinct term and field), plus the similarity to the topic's
     examples when it is higher; tagged when score >= min_score;
  3. no query match, but similarity to an example >= example_threshold -> tagged on that alone.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aggregator.models import TopicTag
from aggregator.normalise import fold
from aggregator.query import And, Field, Near, Node, Not, Or, Phrase, Term

_TOKEN = re.compile(r"[^\W_]+(?:[.'’\-][^\W_]+)*\.?", re.UNICODE)
FIELD_WEIGHT = {"title": 1.0, "summary": 0.5, "feed": 0.3, "author": 0.3}
DEFAULT_FIELDS = ("title", "summary")


class _Field:
    """One field's tokens: folded token -> positions, and the same for tokens written in capitals."""

    __slots__ = ("index", "upper", "_sorted")

    def __init__(self, text: str) -> None:
        self.index: dict[str, list[int]] = defaultdict(list)
        self.upper: dict[str, list[int]] = defaultdict(list)
        self._sorted: list[str] | None = None  # tokens in order, built on the first prefix lookup
        pos = 0
        for m in _TOKEN.finditer(text):
            raw = m.group()
            for piece in _pieces(raw):
                word = piece.replace(".", "")
                if word.endswith(("'s", "’s")):
                    word = word[:-2]
                if not word:
                    continue
                folded = fold(word)
                self.index[folded].append(pos)
                if word.isupper() and len(word) >= 2:
                    self.upper[folded].append(pos)
                pos += 1
            if "-" in raw:  # "chip-making" is also "chipmaking", at the position of its first part
                joined = fold(raw.replace("-", "").replace(".", ""))
                self.index[joined].append(pos - raw.count("-") - 1)

    def prefixed(self, prefix: str, upper: bool) -> list[int]:
        """Positions of the tokens that start with ``prefix`` (bisect in the sorted token list)."""
        if self._sorted is None:
            self._sorted = sorted(self.index)
        index = self.upper if upper else self.index
        out: list[int] = []
        i = bisect_left(self._sorted, prefix)
        while i < len(self._sorted) and self._sorted[i].startswith(prefix):
            out.extend(index.get(self._sorted[i], ()))
            i += 1
        return out


def _pieces(raw: str) -> list[str]:
    return [p for p in raw.split("-") if p] if "-" in raw else [raw]


@dataclass
class Doc:
    fields: dict[str, _Field]

    @classmethod
    def of(cls, title: str, summary: str, feed: str = "", author: str = "") -> Doc:
        return cls({"title": _Field(title), "summary": _Field(summary), "feed": _Field(feed or ""),
                    "author": _Field(author or "")})


Span = tuple[str, int, int, str]  # field, start, end (inclusive), label


def _term_positions(f: _Field, term: Term) -> list[int]:
    if term.prefix:
        return f.prefixed(term.text, term.upper)
    return (f.upper if term.upper else f.index).get(term.text, [])


def match(node: Node, doc: Doc, fields: tuple[str, ...] = DEFAULT_FIELDS) -> list[Span] | None:
    """The spans that make ``node`` true on ``doc``, or None when it is false. NOT yields []."""
    if isinstance(node, Term):
        spans = [(name, p, p, str(node)) for name in fields for p in _term_positions(doc.fields[name], node)]
        return spans or None
    if isinstance(node, Phrase):
        spans = []
        for name in fields:
            f = doc.fields[name]
            starts = _term_positions(f, node.words[0])
            rest = [set(_term_positions(f, w)) for w in node.words[1:]]
            for p in starts:
                if all(p + i + 1 in s for i, s in enumerate(rest)):
                    spans.append((name, p, p + len(rest), str(node)))
        return spans or None
    if isinstance(node, And):
        out: list[Span] = []
        for part in node.parts:
            got = match(part, doc, fields)
            if got is None:
                return None
            out.extend(got)
        return out
    if isinstance(node, Or):
        out = []
        hit = False
        for part in node.parts:
            got = match(part, doc, fields)
            if got is not None:
                hit = True
                out.extend(got)
        return out if hit else None
    if isinstance(node, Not):
        return [] if match(node.part, doc, fields) is None else None
    if isinstance(node, Field):
        scope = DEFAULT_FIELDS if node.name == "text" else (node.name,)
        return match(node.part, doc, scope)
    if isinstance(node, Near):
        left, right = match(node.left, doc, fields), match(node.right, doc, fields)
        if not left or not right:
            return None
        out = []
        for a in left:
            for b in right:
                if a[0] == b[0] and (b[1] - a[2] <= node.distance and a[1] - b[2] <= node.distance):
                    out.extend((a, b))
        return out or None
    raise TypeError(f"not a query node: {node!r}")


@dataclass(frozen=True)
class CompiledTopic:
    """What `tag` needs of a watchlist topic."""

    id: str
    query: Node
    exclude: Node | None
    min_score: float
    example_threshold: float
    examples: tuple[tuple[str, dict[str, float]], ...] = ()  # (name, term weights)


def score_spans(spans: Iterable[Span]) -> tuple[float, tuple[str, ...]]:
    seen: dict[tuple[str, str], float] = {}
    for field_name, _, _, label in spans:
        seen[(field_name, label)] = FIELD_WEIGHT.get(field_name, 0.3)
    total = sum(seen.values())
    matched = tuple(sorted(f"{f}:{label}" for f, label in seen))
    return 1 - math.exp(-total), matched


def tag(doc: Doc, topics: Iterable[CompiledTopic],
        similarity: Callable[[dict[str, float]], float] | None = None) -> list[TopicTag]:
    """Tag one document. ``similarity(example_terms)`` gives the cosine of the document to an example."""
    out = []
    for topic in topics:
        if topic.exclude is not None and match(topic.exclude, doc) is not None:
            continue
        spans = match(topic.query, doc)
        best_name, best_sim = None, 0.0
        if similarity is not None:
            for name, terms in topic.examples:
                s = similarity(terms)
                if s > best_sim:
                    best_name, best_sim = name, s
        if spans is not None:
            score, matched = score_spans(spans)
            if best_name and best_sim >= 0.15:
                matched = matched + (f"example:{best_name} ({best_sim:.2f})",)
                score = max(score, best_sim)
            if score >= topic.min_score:
                out.append(TopicTag(topic.id, round(score, 3), matched))
        elif best_name and best_sim >= topic.example_threshold:
            out.append(TopicTag(topic.id, round(best_sim, 3), (f"example:{best_name} ({best_sim:.2f})",)))
    return out
