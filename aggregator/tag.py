"""Tag stage: which watchlist topics an item belongs to, with a score and what matched.

Pure. `Doc.of` tokenises an item once (positions per field); `compile_query` makes a query tree one
function (closures, with the word triggers and OR plans built in) that returns the spans that made it
true on a document (or None); `CompiledTopic` keeps its query's; `tag` applies every topic:

  1. the topic's `exclude` query matches -> no tag, whatever else;
  2. the query matches -> score = 1 - exp(-sum of hit weights) (title hit 1.0, summary 0.5,
     feed/tag/author 0.3, once per distinct term and field; a match on the source alone, `tag:china`,
     counts as a title hit), plus the similarity to the topic's examples when it is higher; tagged
     when score >= min_score;
  3. no query match, but similarity to an example >= example_threshold -> tagged on that alone.
"""

from __future__ import annotations

import math
import re
import threading
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from aggregator.models import TopicTag
from aggregator.normalise import cjk_split, fold, has_cjk
from aggregator.query import And, Field, Near, Node, Not, Or, Phrase, Term

_TOKEN = re.compile(r"[^\W_]+(?:[.'’\-][^\W_]+)*\.?", re.UNICODE)
FIELD_WEIGHT = {"title": 1.0, "summary": 0.5, "feed": 0.3, "tag": 0.3, "author": 0.3}
DEFAULT_FIELDS = ("title", "summary")


class _Field:
    """One field's tokens: folded token -> positions, and the same for tokens written in capitals."""

    __slots__ = ("index", "upper", "_sorted")

    def __init__(self, text: str) -> None:
        self.index: dict[str, list[int]] = defaultdict(list)
        self.upper: dict[str, list[int]] = defaultdict(list)
        self._sorted: list[str] | None = None  # tokens in order, built on the first prefix lookup
        pos = 0
        index, upper = self.index, self.upper
        for raw in _TOKEN.findall(text):
            if raw.isalnum() and raw.isascii():  # a plain word, most of them: what _analyse makes of it, inline
                folded = raw.lower()
                index[folded].append(pos)
                if len(raw) >= 2 and raw.isupper():
                    upper[folded].append(pos)
                pos += 1
                continue
            words, joined = _analyse(raw)
            for folded, is_upper in words:
                index[folded].append(pos)
                if is_upper:
                    upper[folded].append(pos)
                pos += 1
            if joined:  # "chip-making" is also "chipmaking", at the position of its first part
                index[joined].append(pos - raw.count("-") - 1)

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


def clear_caches() -> None:
    """Forget the memoised token analyses (benchmarks measure from cold)."""
    _analyse.cache_clear()
    _shared_field.cache_clear()


@lru_cache(maxsize=256)
def _shared_field(text: str) -> _Field:
    """Feed titles and author names repeat on every item of a feed: tokenised once (fields are read-only)."""
    return _Field(text)


@lru_cache(maxsize=4096)
def _analyse(raw: str) -> tuple[tuple[tuple[str, bool], ...], str]:
    """One raw token -> its words (folded, written in capitals?) and, if hyphenated, the joined form.
    Cached: news reuses its words, and this is the inner loop of tagging."""
    words = []
    raw = raw.translate(APOSTROPHES)  # "China’s", "l’exportation" as "China's", "l'exportation"
    pieces = [p for p in raw.split("-") if p] if "-" in raw else [raw]
    if has_cjk(raw):  # Chinese or Japanese: one word per character, a query term is a phrase of them
        pieces = [c for p in pieces for c in cjk_split(p, 1)]
    for piece in pieces:
        word = piece.replace(".", "")
        if word.endswith("'s"):
            word = word[:-2]
        if word:
            words.append((fold(word), word.isupper() and len(word) >= 2))
    if "-" in raw:
        joined = fold(raw.replace("-", "").replace(".", ""))
    elif "'" in raw and (m := _ELIDED.match(raw)):
        joined = fold(m.group(1).replace(".", ""))  # "l'exportation" is also "exportation"
    else:
        joined = ""
    return tuple(words), joined


# The apostrophes a text or a query may write inside a word (typographic, modifier letter), as the one typed
APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'"})
# An elided article or preposition glued to its word (French, Italian: "l'exportation", "d'Huawei", "qu'il")
_ELIDED = re.compile(r"^[^\W\d_]{1,2}'([^\W_][\w'.]+)$")


# Every prefix the triggers of a compiled query hold (`triggers` adds them), the length of the shortest and their
# first letters up to it: a document's prefix set is made of its tokens that can start one of them only. Replaced,
# never changed in place, so a document can tell that a query compiled since its set was made may ask for more.
_PREFIXES: tuple[frozenset[str], int, frozenset[str]] = (frozenset(), 1, frozenset())
_PREFIXES_LOCK = threading.Lock()  # two watchlists compiled at once (a reload beside a command) lose no prefix


def _known_prefix(prefix: str) -> None:
    global _PREFIXES
    if not prefix or prefix in _PREFIXES[0]:
        return
    with _PREFIXES_LOCK:
        known = _PREFIXES[0] | {prefix}
        shortest = min(map(len, known))
        _PREFIXES = (known, shortest, frozenset(p[:shortest] for p in known))


@dataclass
class Doc:
    fields: dict[str, _Field]
    tokens: frozenset[str] = frozenset()  # every folded token of every field, for prefilters
    _prefixes: frozenset[str] = frozenset()
    _prefixes_for: tuple[frozenset[str], int, frozenset[str]] | None = None  # the _PREFIXES it was made for

    @classmethod
    def of(cls, title: str, summary: str, feed: str = "", author: str = "", tags: Sequence[str] = ()) -> Doc:
        fields = {
            "title": _Field(title),
            "summary": _Field(summary),
            "feed": _shared_field(feed or ""),
            "author": _shared_field(author or ""),
            "tag": _shared_field(" ".join(tags)),
        }
        return cls(fields, frozenset().union(*(f.index for f in fields.values())))

    @property
    def prefixes(self) -> frozenset[str]:
        """The prefixes of the document's tokens, as far as a compiled query's triggers may ask for them: of the
        tokens that begin as one of those prefixes does, every prefix at least as long as the shortest of them
        (built on the first prefix trigger; again if a query compiled since then holds new prefixes). Every
        prefix would be about 700 strings for a news summary, most of which no query names."""
        registry = _PREFIXES
        if self._prefixes_for is not registry:
            _, shortest, heads = registry
            self._prefixes = frozenset(
                t[:i] for t in self.tokens if t[:shortest] in heads for i in range(shortest, len(t) + 1)
            )
            self._prefixes_for = registry
        return self._prefixes

    def lacks(self, trigger: Trigger) -> bool:
        """True when none of the words a node needs is in the document (so the node is false)."""
        exact, prefixes = trigger
        return exact.isdisjoint(self.tokens) and (not prefixes or prefixes.isdisjoint(self.prefixes))


Trigger = tuple[frozenset[str], frozenset[str]]  # exact tokens, prefixes


def triggers(node: Node, out: dict[int, Trigger | None] | None = None) -> dict[int, Trigger | None]:
    """For every node of a query (by id): the words one of which must be in a document for the
    node to be true, or None when no such set exists (NOT can be true on any document).

    Term -> itself; Phrase -> its first word; Or -> the union of its parts (None if any is None);
    And / Near -> the smallest set among its parts; Field -> its part's; Not -> None.
    """
    out = {} if out is None else out
    if isinstance(node, Term):
        if node.prefix:
            _known_prefix(node.text)
        out[id(node)] = (frozenset(), frozenset({node.text})) if node.prefix else (frozenset({node.text}), frozenset())
    elif isinstance(node, Phrase):
        out[id(node)] = triggers(node.words[0], out)[id(node.words[0])]
    elif isinstance(node, Or):
        parts = [triggers(p, out)[id(p)] for p in node.parts]
        out[id(node)] = (
            None
            if any(t is None for t in parts)
            else (frozenset().union(*(t[0] for t in parts if t)), frozenset().union(*(t[1] for t in parts if t)))
        )
    elif isinstance(node, And | Near):
        parts = [triggers(p, out)[id(p)] for p in ((node.left, node.right) if isinstance(node, Near) else node.parts)]
        known = [t for t in parts if t is not None]
        out[id(node)] = min(known, key=lambda t: len(t[0]) + 5 * len(t[1])) if known else None
    elif isinstance(node, Field):
        out[id(node)] = triggers(node.part, out)[id(node.part)]
    elif isinstance(node, Not):
        triggers(node.part, out)
        out[id(node)] = None
    return out


Span = tuple[str, int, int, str]  # field, start, end (inclusive), label


# a large OR's parts by the words that can make them true: exact word -> parts, the same words as one set, a
# prefix -> parts, the prefixes as one set, and the parts with no such words (always tried)
OrPlan = tuple[dict[str, tuple[int, ...]], frozenset[str], dict[str, tuple[int, ...]], frozenset[str], tuple[int, ...]]


def or_plans(node: Node, trig: dict[int, Trigger | None], out: dict[int, OrPlan] | None = None) -> dict[int, OrPlan]:
    """For every large OR of a query (by id): which of its parts each word, or each prefix, can make true, so
    that a document's words pick the parts to try with two set intersections instead of a test per part (a
    part is tried exactly when its trigger is not lacking: `Doc.lacks`)."""
    out = {} if out is None else out
    if isinstance(node, Or):
        if len(node.parts) >= 4:
            by_word: dict[str, list[int]] = defaultdict(list)
            by_prefix: dict[str, list[int]] = defaultdict(list)
            always = []
            for i, part in enumerate(node.parts):
                t = trig.get(id(part))
                if t is None:  # no trigger (a NOT can be true on any document)
                    always.append(i)
                    continue
                for word in t[0]:
                    by_word[word].append(i)
                for prefix in t[1]:
                    by_prefix[prefix].append(i)
            out[id(node)] = (
                {w: tuple(ix) for w, ix in by_word.items()},
                frozenset(by_word),
                {p: tuple(ix) for p, ix in by_prefix.items()},
                frozenset(by_prefix),
                tuple(always),
            )
        for part in node.parts:
            or_plans(part, trig, out)
    elif isinstance(node, And):
        for part in node.parts:
            or_plans(part, trig, out)
    elif isinstance(node, Near):
        or_plans(node.left, trig, out)
        or_plans(node.right, trig, out)
    elif isinstance(node, Field | Not):
        or_plans(node.part, trig, out)
    return out


Matcher = Callable[[Doc, tuple[str, ...]], list[Span] | None]


def match(
    node: Node,
    doc: Doc,
    fields: tuple[str, ...] = DEFAULT_FIELDS,
    trig: dict[int, Trigger | None] | None = None,
    plans: dict[int, OrPlan] | None = None,
) -> list[Span] | None:
    """The spans that make ``node`` true on ``doc``, or None when it is false. NOT yields [].
    ``trig`` (from `triggers`) lets whole subtrees be skipped when their words are absent; ``plans``
    (from `or_plans`) lets a large OR try only the parts the document's words can make true.
    (Compiles the query each time: `CompiledTopic` keeps its compiled matchers.)"""
    return compile_query(node, trig or {}, plans or {})(doc, fields)


def compile_query(node: Node, trig: dict[int, Trigger | None], plans: dict[int, OrPlan]) -> Matcher:
    """``node`` as one function of (document, fields) -> spans or None, with its shortcuts built in: a
    tree of closures, so that tagging pays no dispatch on node types and no look-up of triggers."""
    guard, bare = _compiled(node, trig, plans)
    if guard is None:
        return bare

    def guarded(doc: Doc, fields: tuple[str, ...]) -> list[Span] | None:
        if doc.lacks(guard):
            return None
        return bare(doc, fields)

    return guarded


def _compiled(node: Node, trig: dict[int, Trigger | None], plans: dict[int, OrPlan]) -> tuple[Trigger | None, Matcher]:
    """The node's trigger (checked by the caller) and its matcher without that check."""
    guard = trig.get(id(node))
    if isinstance(node, Term):
        return guard, _term(node)
    if isinstance(node, Phrase):
        return guard, _phrase(node)
    if isinstance(node, And):
        return guard, _and([_compiled(p, trig, plans) for p in node.parts])
    if isinstance(node, Or):
        return guard, _or([_compiled(p, trig, plans) for p in node.parts], plans.get(id(node)))
    if isinstance(node, Not):
        inner = compile_query(node.part, trig, plans)
        return guard, lambda doc, fields: [] if inner(doc, fields) is None else None
    if isinstance(node, Field):
        inner = compile_query(node.part, trig, plans)
        scope = DEFAULT_FIELDS if node.name == "text" else (node.name,)
        return guard, lambda doc, fields: inner(doc, scope)
    if isinstance(node, Near):
        left, right = compile_query(node.left, trig, plans), compile_query(node.right, trig, plans)
        return guard, _near(left, right, node.distance)
    raise TypeError(f"not a query node: {node!r}")


def _positions(term: Term) -> Callable[[_Field], list[int]]:
    text, upper = term.text, term.upper
    if term.prefix:
        return lambda f: f.prefixed(text, upper)
    if upper:
        return lambda f: f.upper.get(text, [])
    return lambda f: f.index.get(text, [])


def _term(node: Term) -> Matcher:
    positions, label = _positions(node), str(node)

    def term(doc: Doc, fields: tuple[str, ...]) -> list[Span] | None:
        spans = [(name, p, p, label) for name in fields for p in positions(doc.fields[name])]
        return spans or None

    return term


def _phrase(node: Phrase) -> Matcher:
    first, rest, label = _positions(node.words[0]), [_positions(w) for w in node.words[1:]], str(node)
    length = len(rest)

    def phrase(doc: Doc, fields: tuple[str, ...]) -> list[Span] | None:
        spans: list[Span] = []
        for name in fields:
            f = doc.fields[name]
            starts = first(f)
            if not starts:
                continue
            later: list[Collection[int]] = []
            for positions in rest:
                at = positions(f)
                if not at:  # a word of the phrase is not in this field
                    break
                later.append(at if len(at) < 8 else set(at))  # a word's few positions: a list is scanned faster
            else:
                if length == 1:  # most phrases are two words
                    second = later[0]
                    spans.extend((name, p, p + 1, label) for p in starts if p + 1 in second)
                    continue
                for p in starts:
                    if all(p + i + 1 in s for i, s in enumerate(later)):
                        spans.append((name, p, p + length, label))
        return spans or None

    return phrase


def _and(parts: list[tuple[Trigger | None, Matcher]]) -> Matcher:
    guards = [g for g, _ in parts if g is not None]
    matchers = [m for _, m in parts]

    def and_(doc: Doc, fields: tuple[str, ...]) -> list[Span] | None:
        lacks = doc.lacks
        for guard in guards:  # a part whose words are absent makes the AND false: all checked first
            if lacks(guard):
                return None
        out: list[Span] = []
        for m in matchers:
            got = m(doc, fields)
            if got is None:
                return None
            out.extend(got)
        return out

    return and_


def _or(parts: list[tuple[Trigger | None, Matcher]], plan: OrPlan | None) -> Matcher:
    if plan is not None:
        return _planned_or([m for _, m in parts], plan)

    def or_(doc: Doc, fields: tuple[str, ...]) -> list[Span] | None:
        out: list[Span] = []
        hit = False
        for guard, m in parts:
            if guard is not None and doc.lacks(guard):  # a part whose words are absent: its matcher is not called
                continue
            got = m(doc, fields)
            if got is not None:
                hit = True
                out.extend(got)
        return out if hit else None

    return or_


def _planned_or(matchers: list[Matcher], plan: OrPlan) -> Matcher:
    """A large OR: only the parts the document's words or their prefixes can make true are tried, in order."""
    by_word, words, by_prefix, prefixes, always = plan

    def or_(doc: Doc, fields: tuple[str, ...]) -> list[Span] | None:
        picked = set(always)
        for word in doc.tokens & words:
            picked.update(by_word[word])
        if prefixes:
            for prefix in doc.prefixes & prefixes:
                picked.update(by_prefix[prefix])
        out: list[Span] = []
        hit = False
        for i in sorted(picked):
            got = matchers[i](doc, fields)
            if got is not None:
                hit = True
                out.extend(got)
        return out if hit else None

    return or_


def _near(left: Matcher, right: Matcher, distance: int) -> Matcher:
    def near(doc: Doc, fields: tuple[str, ...]) -> list[Span] | None:
        a_spans = left(doc, fields)
        if not a_spans:
            return None
        b_spans = right(doc, fields)
        if not b_spans:
            return None
        out: list[Span] = []
        for a in a_spans:
            for b in b_spans:
                if a[0] == b[0] and (b[1] - a[2] <= distance and a[1] - b[2] <= distance):
                    out.extend((a, b))
        return out or None

    return near


@dataclass(frozen=True)
class CompiledTopic:
    """What `tag` needs of a watchlist topic."""

    id: str
    query: Node
    exclude: Node | None
    min_score: float
    example_threshold: float
    examples: tuple[tuple[str, dict[str, float]], ...] = ()  # (name, term weights)
    trig: dict[int, Trigger | None] = field(default_factory=dict, compare=False, repr=False)
    plans: dict[int, OrPlan] = field(default_factory=dict, compare=False, repr=False)
    matches: Matcher = field(init=False, compare=False, repr=False)  # the query, compiled
    excluded: Matcher | None = field(init=False, compare=False, repr=False)  # the exclude query, compiled

    def __post_init__(self) -> None:
        triggers(self.query, self.trig)
        or_plans(self.query, self.trig, self.plans)
        if self.exclude is not None:
            triggers(self.exclude, self.trig)
            or_plans(self.exclude, self.trig, self.plans)
        # frozen: set once here
        object.__setattr__(self, "matches", compile_query(self.query, self.trig, self.plans))
        excluded = None if self.exclude is None else compile_query(self.exclude, self.trig, self.plans)
        object.__setattr__(self, "excluded", excluded)


SOURCE_FIELDS = frozenset({"feed", "tag", "author"})


def score_spans(spans: Iterable[Span]) -> tuple[float, tuple[str, ...]]:
    seen: dict[tuple[str, str], float] = {}
    for field_name, _, _, label in spans:
        seen[(field_name, label)] = FIELD_WEIGHT.get(field_name, 0.3)
    total = sum(seen.values())
    if seen and all(f in SOURCE_FIELDS for f, _ in seen):
        # matched on its source alone (`tag:china`, `feed:guardian`): the query takes every item of that source,
        # scored as a headline hit, not the 0.26 of one source hit, under min_score's default
        total = max(total, FIELD_WEIGHT["title"])
    matched = tuple(sorted(f"{f}:{label}" for f, label in seen))
    return 1 - math.exp(-total), matched


def tag(
    doc: Doc, topics: Iterable[CompiledTopic], similarity: Callable[[dict[str, float]], float] | None = None
) -> list[TopicTag]:
    """Tag one document. ``similarity(example_terms)`` gives the cosine of the document to an example."""
    out = []
    for topic in topics:
        spans = topic.matches(doc, DEFAULT_FIELDS)
        if spans is None and not topic.examples:
            continue
        if topic.excluded is not None and topic.excluded(doc, DEFAULT_FIELDS) is not None:
            continue
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
