"""Dedup stage: decide whether a new item is the same item, a near-duplicate, or part of a story.

Pure: it looks only at data given to it (`decide`) and at the in-memory `StoryIndex` of recent
items; the poll stage fetches candidates from the store. Rule order in `decide`:

  1. same item: an item with the same canonical URL exists, or the same article at another address of its
     site within the window (the site's number for it, or a slug ending in an id or a date:
     normalise.article_slug); same (feed, guid) never reaches here: it is an edit or nothing, handled by
     the poll stage. Else a seed published at that URL makes the item a near-duplicate of the seed;
  2. near-duplicate: shingle containment with an earlier item or a seed >= near_threshold;
     the copy is marked duplicate_of the earliest original and joins its story;
  3. same story: the best story among recent items (within `window`, by published time) and
     seeds, scored on all its members that resemble the item (TF-IDF cosine less a time penalty,
     summed, divided by the square root of the story's size), when that score >= story_threshold;
  4. otherwise a new story.

Near-duplicate features: word 3-shingles of the folded title + text. Similarity is containment
|A & B| / min(|A|, |B|) when both sides have at least MIN_SHINGLES shingles (a trimmed summary
or a feed excerpt of a seed is contained in the longer text), Jaccard otherwise. Candidates come
from persisted keys: a hash of the folded title, plus the shingles whose hash is 0 mod SAMPLE
(a sample that keeps containment in expectation).
"""

from __future__ import annotations

import hashlib
import math
import re
import sys
from array import array
from collections import Counter, defaultdict, deque
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import chain, repeat
from operator import itemgetter, mul

from aggregator.models import DedupDecision
from aggregator.normalise import article_site, cjk_split, fold, has_cjk, is_photo_caption

SHINGLE = 3
SAMPLE = 8
BAND_WORDS = 600  # an item's candidate keys are kept for its first this many words of text (stored_keys)
MIN_SHINGLES = 12
MIN_SHARED_TEXT = 30  # shared shingles (about 30 words in sequence) needed when the titles differ
LEDE_SHINGLE_WORDS = 14  # an item's opening words, compared to tell a re-post from a feed's boilerplate
RELATED_TITLE = 0.3  # title word Jaccard from which a copy under an edited headline needs less shared text
REPOST_TITLE = 0.15  # title word Jaccard a re-post within one feed keeps at least
SAME_TITLE = 0.6  # title word Jaccard from which two titles count as the same headline
HEADLINE_WORDS = 6  # a headline alone identifies an article (against a report with text) from this length
LONG_HEADLINE = 9  # ...and, with other text on both sides, a headline of this length that is
SAME_HEADLINE = 0.8  # the same to this Jaccard of its shingles
REFILED = 0.9  # two articles of a site (named apart) under one headline in one feed: copies when this alike
PRIOR_DOCS = 30  # a new install's first items: IDF as if among this many documents (see StoryIndex.idf)
RARE_TERMS = 12  # story candidates come from the postings of this many of an item's rarest terms
MAX_POSTINGS = 500  # a term in more recent documents than this selects no candidates
SCAN = 200  # of a rare term's postings, only the most recent SCAN are read (older ones rarely win: time penalty)
TOP_CANDIDATES = 50  # exact cosines computed per new item
TIME_DECAY = 0.5  # similarity lost over a whole story window (tuned on topic-dev, see BENCHMARKS.md)
LATE_MARGIN = timedelta(hours=24)
DOC_TERMS = 24  # terms kept per indexed document (the norm stays that of the full vector)
QUANT = 8  # indexed weights are stored as round(weight x QUANT), one byte each (max 31.9)
TITLE_WEIGHT = 2.0  # a headline word counts this many lede words in story similarity
LEDE_WORDS = 40  # words of an item's text used for story similarity
STORY_MASS = 0.5  # a story's score divides its members' summed similarity by (its size ** STORY_MASS)
LATE_JOIN = 1.35  # a report that started a story of its own joins a grown story at this x the story threshold
LATE_FLOOR = 0.15  # ...tried when a new member of that story is at least this similar to it
LATE_TRIES = 2  # ...at most this many such reports per new member
FOLLOW_UP = 1.5  # outside its date's window, a seed's story is joined by the seed alone at this x the threshold
BLURB_ITEMS = 12  # a feed's last this many texts tell its recurring words (FeedBlurbs)
BLURB_SEEN = 4  # ...once it has this many
BLURB_SHARE = 0.6  # a text whose words are this much the feed's recurring ones is the feed's blurb
_ZEROS = repeat(0.0)  # the default of vec.get for every term, in Doc.dot
_WORD = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*", re.UNICODE)

STOPWORDS = frozenset(
    """
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers him his how i if in into is it its itself just me more most my
no nor not now of off on once only or other our out over own same she should so some such than
that the their them then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your says said say new news
report reports reported amid after over via just get gets got make makes made week year years day
today yesterday one two three first last us's could may might must shall still yet ever even
according told tells per like back""".split()
)


WORDS_CACHE = 256  # texts whose words stay tokenised (a feed's document fits whole: FeedBlurbs reads it first)
WORDS_BUDGET = 60_000  # ...and words in all: whole articles (1,500 words each) would hold 26 MB at 256 texts
_words_cache: dict[str, tuple[str, ...]] = {}  # oldest first (dicts keep their order)
_words_held = [0]


def words(text: str) -> tuple[str, ...]:
    """Folded word tokens; 'U.S.' -> 'us', "China's" -> 'china'. Cached: one item's title and text are
    tokenised once for its shingles, candidate keys, story terms and title comparisons, within WORDS_CACHE
    texts and WORDS_BUDGET words (the least recently used go first)."""
    cache = _words_cache
    out = cache.pop(text, None)
    if out is None:
        out = _words(text)
        _words_held[0] += len(out)
    cache[text] = out  # the most recent last
    while len(cache) > WORDS_CACHE or (_words_held[0] > WORDS_BUDGET and len(cache) > 1):
        _words_held[0] -= len(cache.pop(next(iter(cache))))
    return out


def _words(text: str) -> tuple[str, ...]:
    out = []
    folded = fold(text)
    tokens = _WORD.findall(folded)
    if has_cjk(folded):  # Chinese or Japanese: character bigrams are its words
        tokens = [piece for t in tokens for piece in (cjk_split(t, 2) if has_cjk(t) else (t,))]
    for w in tokens:
        w = w.replace(".", "").replace("’", "'")
        if w.endswith("'s"):
            w = w[:-2]
        if w:
            out.append(w)
    return tuple(out)


_BLAKE8 = hashlib.blake2b(digest_size=8)  # copied for each hash: cheaper than a new one with its parameters


def _h64(text: str) -> int:
    """A stable 64-bit hash (persisted: item_bands). The same value as blake2b(text, digest_size=8)."""
    h = _BLAKE8.copy()
    h.update(text.encode())
    return int.from_bytes(h.digest(), "big", signed=True)


def shingles(text: str, more: str = "") -> set[int]:
    """Hashed word 3-grams of ``text`` followed by ``more`` (a title and its text: each tokenised once)."""
    toks = words(text) + words(more) if more else words(text)
    if len(toks) < SHINGLE:
        return {_h64(" ".join(toks))} if toks else set()
    h64, join = _h64, " ".join
    return {h64(join(toks[i : i + SHINGLE])) for i in range(len(toks) - SHINGLE + 1)}


def title_key(title: str) -> int:
    return _h64("title:" + " ".join(words(title)))


def article_name_key(slug: str) -> int:
    """An article's name on its site (normalise.article_slug) as a key of the pipeline's recent articles."""
    return _h64("article:" + slug)


def band_keys(title: str, text: str, sh: set[int] | frozenset[int] | None = None) -> list[int]:
    """Persisted candidate keys of a text (see module docstring); ``sh``: its shingles if known."""
    sh = shingles(title, text) if sh is None else sh
    keys = {k for k in sh if k % SAMPLE == 0}
    if not keys and sh:
        keys.add(min(sh))
    if title.strip():
        keys.add(title_key(title))
    return sorted(keys)


def keys_needed(keys: list[int], threshold: float) -> int:
    """How many of its candidate keys an earlier text must share to be a possible original: about a share >= the
    near-duplicate threshold of them (expected shared = containment x keys); fewer cannot make the threshold."""
    return max(1, int(len(keys) * threshold * 0.5))


def stored_keys(title: str, text: str, keys: list[int]) -> list[int]:
    """The candidate keys kept for an item: those of its title and its first BAND_WORDS words. A feed that
    carries whole articles (10 KB of text) would otherwise store hundreds of keys an item; copies repeat
    an article's opening, and a longer copy found later still finds a short one by its own full keys."""
    toks = words(text)
    if len(toks) <= BAND_WORDS:
        return keys
    return band_keys(title, " ".join(toks[:BAND_WORDS]))


def _same_lede(text: str, other: frozenset[int] | set[int]) -> bool:
    """Whether ``text`` opens with words that ``other`` (a text's shingles) also has: most of the
    shingles of its first LEDE_SHINGLE_WORDS words."""
    lede = shingles(" ".join(words(text)[:LEDE_SHINGLE_WORDS]))
    return bool(lede) and len(lede & other) >= 0.6 * len(lede)


def title_words(title: str) -> set[str]:
    return {w for w in words(title) if w not in STOPWORDS}


def title_overlap(words_of_title: set[str], other_title: str) -> float:
    """Word Jaccard of a title (its title_words) with another title."""
    return _jaccard(words_of_title, title_words(other_title))


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def similarity(a: set[int] | frozenset[int], b: set[int] | frozenset[int]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    small = min(len(a), len(b))
    if small >= MIN_SHINGLES:
        return inter / small
    return inter / len(a | b)


# --- story features ----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _stem(w: str) -> str:
    """A light stemmer: enough to join 'bans'/'banned'/'banning' and 'restrictions'/'restriction'."""
    if len(w) <= 4 or w.isdigit():
        return w
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)] + keep
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":
        w = w[:-1]  # banned -> bann -> ban
    return w


def story_terms(title: str, text: str, max_text_words: int | None = None) -> dict[str, float]:
    """Term frequencies for story similarity: title words count TITLE_WEIGHT times; text is cut to its
    lede (LEDE_WORDS words unless told)."""
    tf: dict[str, float] = defaultdict(float)
    if is_photo_caption(text):  # a picture's caption says nothing of the story
        text = ""
    for t in _terms(words(title)):
        tf[t] += TITLE_WEIGHT
    for t in _lede_terms(text) if max_text_words is None else _terms(words(text)[:max_text_words]):
        tf[t] += 1.0
    return {sys.intern(t): f for t, f in tf.items()}  # interned: the index keeps one copy of each term


_AMOUNT = re.compile(r"(\d+)(?:m|mn|bn|b|tn|trn)")  # "$300m", "$1.1bn" (words() drops the point): the figure


def _terms(ws: Iterable[str]) -> Iterator[str]:
    """Story terms of words: stop words and single letters left out, the rest stemmed; an amount written with
    its scale ("$300m", "$300mn") is its figure, as "$300 million" is ("300", "million")."""
    for w in ws:
        if w in STOPWORDS or len(w) < 2:
            continue
        if w[0].isdigit() and (amount := _AMOUNT.fullmatch(w)):
            yield amount[1]
        else:
            yield _stem(w)


@lru_cache(maxsize=256)
def _lede_terms(text: str) -> tuple[str, ...]:
    """The story terms of a text's lede (LEDE_WORDS words). Cached: an item's are read for its feed's blurb
    check (FeedBlurbs) and then for its story terms."""
    return tuple(_terms(words(text)[:LEDE_WORDS]))


class ArticleNames:
    """The article names (normalise.article_slug, as article_name_key) of the story index's items -> the first
    item with each, in about 15 bytes a name: a dict of 100,000 64-bit keys and ids took 12 MB, more than the
    daemon's memory target's margin. A key's low 10 bits pick one of 1,024 buckets, each two arrays: the next
    32 bits of the key (its tag) and the item id, scanned in C. Two names may share a bucket and a tag (about
    once in 2 ** 32 per lookup): a caller checks the item's own address, as it must anyway (a hash is no proof).
    """

    BITS = 10
    BUCKETS = 1 << BITS

    def __init__(self) -> None:
        self._buckets: list[tuple[array, array] | None] = [None] * self.BUCKETS  # (tags, item ids)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @classmethod
    def _split(cls, key: int) -> tuple[int, int]:
        return key & (cls.BUCKETS - 1), (key >> cls.BITS) & 0xFFFFFFFF

    def get(self, key: int) -> int | None:
        b, tag = self._split(key)
        bucket = self._buckets[b]
        if bucket is None:
            return None
        tags, ids = bucket
        try:
            return ids[tags.index(tag)]  # index() scans the array in C
        except ValueError:
            return None

    def add(self, key: int, item_id: int) -> None:
        """Remember ``item_id`` under ``key``, unless an item has that name already (the first keeps it)."""
        b, tag = self._split(key)
        bucket = self._buckets[b]
        if bucket is None:
            bucket = self._buckets[b] = (array("I"), array("q"))
        elif tag in bucket[0]:
            return
        bucket[0].append(tag)
        bucket[1].append(item_id)
        self._n += 1

    def keep(self, alive: Container[int]) -> None:
        """Forget the names of the items not in ``alive`` (pruned from the story index)."""
        self._n = 0
        for b, bucket in enumerate(self._buckets):
            if bucket is None:
                continue
            kept = [(t, i) for t, i in zip(*bucket, strict=True) if i in alive]
            self._buckets[b] = (array("I", [t for t, _ in kept]), array("q", [i for _, i in kept])) if kept else None
            self._n += len(kept)


class FeedBlurbs:
    """The words of each feed's recent item texts, to tell a text that is the feed's blurb: a channel's
    "Clip from <show> (<stream>) - <link>" under every clip, a podcast's sign-off under every episode.
    Such a text is mostly words that at least half of the feed's other texts have too (its last
    BLURB_ITEMS, and those of the document being stored: a new feed's first poll shows its blurb at once),
    and it says nothing of the item's story: were it compared, every item of the feed would join one story.
    A feed's ordinary words ("China" in a China desk's summaries) are a small part of each text, so its
    texts are compared as usual. Per feed, the last texts' terms as 32-bit hashes (about 150 bytes each).
    """

    def __init__(self) -> None:
        self._recent: dict[str, deque[array]] = {}
        # while a feed's document is stored: its URL, its texts not yet checked, and how many of the feed's
        # recent texts and of those have each term (counted once per document, not once per text)
        self._doc: tuple[str, list[tuple[str, array]], Counter[int]] | None = None

    @staticmethod
    def _hashes(text: str) -> array:
        """The text's lede terms (as story_terms finds them), hashed."""
        return array("I", sorted({hash(t) & 0xFFFFFFFF for t in _lede_terms(text)}))

    def expect(self, feed_url: str, texts: Iterable[str]) -> None:
        """The texts of a feed's document about to be checked one by one (each is compared to the others)."""
        coming = [(text, h) for text in texts if (h := self._hashes(text))]
        if not coming:
            self._doc = None
            return
        recent = self._recent.get(feed_url, ())
        self._doc = (feed_url, coming, Counter(chain(chain.from_iterable(recent), *(h for _, h in coming))))

    def check(self, feed_url: str, text: str) -> bool:
        """Whether ``text`` is the feed's blurb; then remembers it among the feed's recent texts."""
        recent = self._recent.get(feed_url) or deque(maxlen=BLURB_ITEMS)
        doc = self._doc if self._doc is not None and self._doc[0] == feed_url else None
        mine = None if doc is None else next((i for i, (other, _) in enumerate(doc[1]) if other == text), None)
        if doc is not None and mine is not None:
            terms = doc[1].pop(mine)[1]
            counts, others = doc[2], len(recent) + len(doc[1])  # counts hold this text too: less one below
            own = 1
        else:  # one text alone (an entry stored outside a document): only its own terms are counted
            terms = self._hashes(text)
            mine_only = set(terms)
            counts = Counter(chain.from_iterable(map(mine_only.intersection, recent)))
            others, own = len(recent), 0
        if not terms:
            return False
        self._recent[feed_url] = recent
        blurb = False
        if others >= BLURB_SEEN:
            need = others / 2
            blurb = sum(1 for h in terms if counts[h] - own >= need) >= BLURB_SHARE * len(terms)
        if len(recent) == BLURB_ITEMS and own:
            counts.subtract(recent[0])  # the oldest text leaves the feed's recent ones
        recent.append(terms)
        return blurb


class _Doc:
    """One indexed document: its strongest terms and their weights in one `bytes`: the terms as 4-byte
    ids (see StoryIndex.term_id), then the weights (in eighths, one byte each)."""

    __slots__ = ("key", "story_id", "ts", "data", "norm", "seen")

    def __init__(
        self,
        key: int,
        story_id: int | None,
        ts: float | None,
        data: bytes,
        norm: float,
        seen: float | None = None,
    ) -> None:
        self.key = key  # item id (>0) or -seed id
        self.story_id = story_id
        self.ts = ts  # POSIX time; None for seeds: they match at any time
        self.seen = seen  # when it was fetched, for a late arrival (published long before); else None
        self.data = data
        self.norm = norm  # of the full vector, so that truncation does not inflate cosines

    def size(self) -> int:
        """How many terms (not __len__: a document with none must not be falsy)."""
        return len(self.data) // 5

    def term_ids(self) -> memoryview:
        return memoryview(self.data)[: 4 * self.size()].cast("i")

    @property
    def weights(self) -> memoryview:
        return memoryview(self.data)[4 * self.size() :]

    def dot(self, vec: dict[int, float]) -> float:
        """Dot product with a vector keyed by term id (the hot loop of story matching: one memoryview)."""
        view = memoryview(self.data)
        split = len(self.data) // 5 * 4
        return sum(map(mul, map(vec.get, view[:split].cast("i"), _ZEROS), view[split:])) / QUANT


class StoryIndex:
    """Recent items (within the story window) and all seeds, with document frequencies.

    Memory is bounded by the window, not by the number of stored items, and kept small per document:
    a term is a 4-byte id (one interned string per term in the vocabulary), a document's terms and weights
    are one `bytes`, and a posting list is one `array('q')` whose entries pack (document key << 8 | the term's
    weight in the document's unit vector, in 255ths): candidates are ranked on those, which add up to a cosine
    (a burst's first reports, whose words were rarer when indexed, would otherwise outrank its latest).
    Pruned documents leave stale postings behind, skipped when read and compacted once they are half of all
    entries; the vocabulary is rebuilt from the live documents then.
    Document frequencies are counted over every document ever added (rebuilt at start from recent items).
    """

    def __init__(self, window: timedelta, follow_up: float = 0.0) -> None:
        self.window = window
        self._win = window.total_seconds()
        # a seed is a report of its date (published, else imported) within the window of that date; later, only
        # a report this similar to it follows its story up (see date_seed)
        self.follow_up = follow_up
        self._seed_span: dict[int, tuple[float, float]] = {}  # seed key -> its date, as first and last moment
        self._held: tuple[_Doc, float] | None = None  # the closest seed the follow-up bar left out (held_seed)
        self.docs: dict[int, _Doc] = {}
        self.postings: dict[str, array] = {}
        self.df: dict[str, int] = {}
        self.n_docs = 0
        self.story_size: dict[int, int] = {}  # story id -> how many of its documents are indexed
        self._entries = 0
        self._stale = 0
        self._memo: tuple[dict[str, float], int, dict[str, float], float] | None = None
        self._fixed: dict[int, tuple[dict[str, float], int, float]] = {}  # id -> (text terms, n_docs, norm)
        self._hours: dict[float, float] = {}  # fetch hours of late arrivals (see add)
        self.term_id: dict[str, int] = {}  # term -> id, for the terms of indexed documents (see _compact)
        self.term_of: list[str] = []  # id -> term
        self._last: tuple[dict[str, float], list[tuple[_Doc, float]]] | None = None  # best_story's candidates

    def idf(self, term: str) -> float:
        """Inverse document frequency, counted as if among at least PRIOR_DOCS documents: in a new install's
        first poll every word is in most of the few documents there are, and plain IDF would make the words
        two reports of one event share worth nothing. From PRIOR_DOCS documents on, the real counts alone."""
        return math.log((max(self.n_docs, PRIOR_DOCS) + 2) / (self.df.get(term, 0) + 1))

    def _vector(self, terms: dict[str, float]) -> tuple[dict[str, float], float]:
        """TF-IDF weights and norm of a document. The last one is remembered while the document
        frequencies stay the same: one new item is matched to stories and compared to examples with it."""
        memo = self._memo
        if memo is not None and memo[0] is terms and memo[1] == self.n_docs:
            return memo[2], memo[3]
        log, df = math.log, self.df
        top = max(self.n_docs, PRIOR_DOCS) + 2
        vec = {t: (1 + log(f)) * log(top / (df.get(t, 0) + 1)) for t, f in terms.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        self._memo = (terms, self.n_docs, vec, norm)
        return vec, norm

    def cosine_to_fixed(self, terms: dict[str, float], fixed: dict[str, float]) -> float:
        """Cosine of a document to a fixed text (a topic's example). The fixed text's norm is computed
        again once the corpus has grown by 1% since it was last computed: exact enough for a threshold,
        and it spares a logarithm per term of a long example for every new item."""
        vec, norm = self._vector(terms)
        cached = self._fixed.get(id(fixed))
        if cached is None or cached[0] is not fixed or abs(self.n_docs - cached[1]) > cached[1] // 100:
            if len(self._fixed) > 64:  # examples of watchlists replaced since
                self._fixed.clear()
            _, fixed_norm = self._vector(fixed)
            cached = self._fixed[id(fixed)] = (fixed, self.n_docs, fixed_norm)
        log, idf = math.log, self.idf
        dot = sum(v * (1 + log(fixed[t])) * idf(t) for t, v in vec.items() if t in fixed)
        return dot / (norm * cached[2])

    def count(self, terms: Iterable[str]) -> None:
        """Count a document's terms in the document frequencies (without indexing it)."""
        self.n_docs += 1
        df = self.df
        for t in terms:
            df[t] = df.get(t, 0) + 1

    def add(
        self,
        key: int,
        story_id: int | None,
        when: datetime | None,
        terms: dict[str, float],
        *,
        counted: bool = False,
        seen: datetime | None = None,
    ) -> None:
        """Index a document published at ``when`` (None: a seed, at any time) and fetched at ``seen``. It is
        kept until both are past the horizon: a report published days before it was fetched (a feed added
        today, a late wire copy) can still gather the other reports of its time that arrive with it."""
        if not counted:
            self.count(terms)
        vec, norm = self._vector(terms)
        # the strongest terms carry the cosine; the rest costs memory
        top = sorted(vec.items(), key=lambda kv: -kv[1])[:DOC_TERMS]
        weights = bytes(max(1, min(255, round(w * QUANT))) for _, w in top)
        ts = when.timestamp() if when else None
        late = None
        if seen is not None and ts is not None and seen.timestamp() - ts > self._win:
            # the next full hour, one shared float per hour: a cycle's late arrivals cost no memory each
            hour = math.ceil(seen.timestamp() / 3600) * 3600.0
            late = self._hours.setdefault(hour, hour)
        ids = self.term_id
        for t, _ in top:
            if t not in ids:
                ids[t] = len(self.term_of)
                self.term_of.append(t)
        doc = _Doc(key, story_id, ts, array("i", [ids[t] for t, _ in top]).tobytes() + weights, norm, late)
        old = self.docs.get(key)
        if old is not None:
            self._stale += old.size()
            self._forget(old)
        self.docs[key] = doc
        self._count_in_story(doc)
        for t, w in top:
            bucket = self.postings.get(t)
            if bucket is None:
                bucket = self.postings[t] = array("q")
            bucket.append(key << 8 | max(1, min(255, round(255 * w / norm))))
        self._entries += len(weights)

    def date_seed(self, key: int, dated: datetime | None) -> None:
        """A seed's date (published, else imported). A report at least ``follow_up`` similar to the seed follows
        it up whenever it comes after the seed's window opens; a less similar one is compared with the seed as
        with a report of that date, within the story window of it (the time penalty counts), and not at all
        later, or when the seed is undated. A report from before that window is no follow-up. A seed kept for
        months would otherwise gather every report sharing the subject's words (a new install's first poll
        most, when those words still look rare). A date without a time of day (midnight exactly, as
        "Published: 3 Jul 2023" reads) is that whole day."""
        if dated is None:
            self._seed_span.pop(key, None)
            return
        ts = dated.timestamp()
        whole_day = (dated.hour, dated.minute, dated.second, dated.microsecond) == (0, 0, 0, 0)
        self._seed_span[key] = (ts, ts + 86400.0 if whole_day else ts)

    def remove(self, key: int) -> None:
        """Drop a document (a seed removed); its postings go stale and are skipped."""
        self._seed_span.pop(key, None)
        doc = self.docs.pop(key, None)
        if doc is not None:
            self._stale += doc.size()
            self._forget(doc)

    def horizon(self, now: datetime) -> datetime:
        """Documents older than this can no longer join a new item's story (a day of margin is kept
        for late arrivals, whose published time is older than the time they are fetched)."""
        return now - self.window - LATE_MARGIN

    def prune(self, now: datetime) -> None:
        horizon = self.horizon(now).timestamp()
        for key in [
            k for k, d in self.docs.items() if d.ts is not None and d.ts < horizon and (d.seen or 0.0) < horizon
        ]:
            self.remove(key)
        if self._stale * 2 > self._entries:
            self._compact()
        self._hours = {h: h for h in self._hours if h >= horizon}

    def _count_in_story(self, doc: _Doc) -> None:
        if doc.story_id is not None:
            self.story_size[doc.story_id] = self.story_size.get(doc.story_id, 0) + 1

    def _forget(self, doc: _Doc) -> None:
        if doc.story_id is not None:
            left = self.story_size.get(doc.story_id, 1) - 1
            if left > 0:
                self.story_size[doc.story_id] = left
            else:
                self.story_size.pop(doc.story_id, None)

    def _compact(self) -> None:
        live = self.docs
        # a fresh vocabulary of the live documents' terms: it stays bounded by the window too
        names = self.term_of
        term_id: dict[str, int] = {}
        term_of: list[str] = []
        for doc in live.values():
            ids = []
            for old in doc.term_ids():
                t = names[old]
                new = term_id.get(t)
                if new is None:
                    new = term_id[t] = len(term_of)
                    term_of.append(t)
                ids.append(new)
            doc.data = array("i", ids).tobytes() + bytes(doc.weights)
        self.term_id, self.term_of = term_id, term_of
        for t in list(self.postings):
            kept = array("q", (e for e in self.postings[t] if (e >> 8) in live))
            if kept:
                self.postings[t] = kept
            else:
                del self.postings[t]
        self._entries = sum(len(b) for b in self.postings.values())
        self._stale = 0

    def best_story(self, terms: dict[str, float], when: datetime) -> StoryMatch | None:
        """The story a document belongs with, judged on all its members among the candidates.

        A story's score is the sum of its members' similarities to the document divided by the square
        root of the story's size (STORY_MASS): one close report is enough evidence, and so are several
        looser ones, as when different outlets cover different angles of one event, while a big story
        cannot absorb a document by its size alone (its score grows with the members that match, not
        with those that do not). Returns the best-scoring story, or None when nothing is similar.
        """
        vec, scored = self._scored(terms, when)
        self._last = (terms, scored)
        return self._best(vec, scored)

    def _best(self, vec: dict[str, float], scored: list[tuple[_Doc, float]]) -> StoryMatch | None:
        mass: dict[int, float] = defaultdict(float)
        closest: dict[int, tuple[_Doc, float]] = {}
        matched: dict[int, int] = defaultdict(int)
        for doc, sim in scored:
            if doc.story_id is None or sim <= 0:
                continue
            mass[doc.story_id] += sim
            matched[doc.story_id] += 1
            if doc.story_id not in closest or sim > closest[doc.story_id][1]:
                closest[doc.story_id] = (doc, sim)
        if not mass:
            return None
        sizes = self.story_size
        score = {s: m / max(1, sizes.get(s, 1)) ** STORY_MASS for s, m in mass.items()}
        story = max(score, key=score.__getitem__)
        doc, sim = closest[story]
        return StoryMatch(story, score[story], doc, sim, matched[story], self._shared(vec, doc))

    def loners(self, terms: dict[str, float], story_id: int) -> list[int]:
        """The reports standing alone in a story of their own among the candidates of the document last
        matched with these terms (best_story), which has joined ``story_id``: the LATE_TRIES most similar
        to it, at least LATE_FLOOR. Each may belong with that story now that it has grown (see rejoin)."""
        last = self._last
        if last is None or last[0] is not terms:
            return []
        sizes = self.story_size
        alone = sorted(
            (
                (sim, doc.key)
                for doc, sim in last[1]
                if sim >= LATE_FLOOR
                and doc.key > 0
                and doc.story_id is not None
                and doc.story_id != story_id
                and sizes.get(doc.story_id) == 1
                and self.docs.get(doc.key) is doc
            ),
            reverse=True,
        )
        return [key for _, key in alone[:LATE_TRIES]]

    def rejoin(self, key: int) -> StoryMatch | None:
        """The best story for an indexed report among the others, as if it came now: a report that came
        before the rest of its story was compared only with the reports there were then. Scored as it was
        indexed (its strongest terms, their weights then, its full norm)."""
        doc = self.docs.pop(key)
        self._forget(doc)
        try:
            names = self.term_of
            vec = {names[t]: w / QUANT for t, w in zip(doc.term_ids(), doc.weights, strict=True)}
            return self._best(vec, self._candidates(vec, doc.norm, doc.ts or 0.0))
        finally:
            self.docs[key] = doc
            self._count_in_story(doc)

    def move(self, key: int, story_id: int) -> None:
        """An indexed report now belongs to another story."""
        doc = self.docs[key]
        self._forget(doc)
        doc.story_id = story_id
        self._count_in_story(doc)

    def held_seed(self, terms: dict[str, float]) -> tuple[int, float, list[str]] | None:
        """The seed the last match of these terms left out for want of a follow-up's similarity (date_seed):
        its key, similarity and shared terms, for the reason of a report that joined no story."""
        if self._held is None:
            return None
        doc, sim = self._held
        return doc.key, sim, self._shared(self._vector(terms)[0], doc)

    def _shared(self, vec: dict[str, float], doc: _Doc | None) -> list[str]:
        if doc is None:
            return []
        names = self.term_of
        weights = {names[i]: w for i, w in zip(doc.term_ids(), doc.weights, strict=True)}
        return sorted((t for t in vec if t in weights), key=lambda t: -vec[t] * weights[t])[:6]

    def _scored(self, terms: dict[str, float], when: datetime) -> tuple[dict[str, float], list[tuple[_Doc, float]]]:
        """The document's vector and its candidates with their similarity (see _candidates): one method, which
        bench/story_trials.py replaces to try other similarities through the whole pipeline."""
        vec, norm = self._vector(terms)
        return vec, self._candidates(vec, norm, when.timestamp())

    def _candidates(self, vec: dict[str, float], norm: float, ts: float) -> list[tuple[_Doc, float]]:
        """A document's candidates with their similarity (cosine less the time penalty).

        Candidates come from the postings of the query's RARE_TERMS rarest terms (terms in more than
        MAX_POSTINGS documents are no evidence and are skipped); their scores are accumulated from those
        terms, and only the TOP_CANDIDATES best get an exact cosine. Cost is bounded whatever the corpus.
        Postings are read newest first, so that among candidates that tie (a busy subject's reports sharing
        the same words) the recent ones, which the time penalty spares, are the ones kept.
        """
        # the rarest terms that other documents have (a word never seen before selects nothing)
        rare = sorted((t for t in vec if t in self.postings), key=vec.__getitem__, reverse=True)[:RARE_TERMS]
        self._held = None
        partial: dict[int, float] = {}
        get = partial.get  # a plain dict's get: faster than a defaultdict's += in this, the hot loop
        for t in rare:
            bucket = self.postings[t]
            if len(bucket) > MAX_POSTINGS:
                continue
            weight = vec[t]
            for entry in reversed(bucket[-SCAN:] if len(bucket) > SCAN else bucket):
                key = entry >> 8
                partial[key] = get(key, 0.0) + weight * (entry & 255)
        if not partial:
            return []
        docs = self.docs
        ids = self.term_id
        by_id = {ids[t]: v for t, v in vec.items() if t in ids}
        ranked = sorted(partial.items(), key=itemgetter(1), reverse=True)[: TOP_CANDIDATES * 2]
        top = [k for k, _ in ranked if k in docs]
        scored = []
        for key in top:
            doc = docs[key]
            if doc.ts is not None and abs(doc.ts - ts) > self._win:
                continue
            sim = doc.dot(by_id) / (norm * doc.norm)
            if doc.ts is not None:  # the further apart in time, the more alike two reports must be
                sim -= TIME_DECAY * abs(doc.ts - ts) / self._win
            else:  # a seed (date_seed)
                span = self._seed_span.get(key)
                if span is not None and span[0] - ts > self._win:
                    continue  # from before the seed's time: no follow-up of it
                # at the follow-up bar, a follow-up whenever it comes (one two days on never needs more than one
                # a week on); under it, a report of the seed's date, within the window of it
                if sim < self.follow_up:
                    gap = None if span is None else max(0.0, span[0] - ts, ts - span[1])
                    if gap is None or gap > self._win:
                        if sim > 0 and (self._held is None or sim > self._held[1]):
                            self._held = (doc, sim)
                        continue
                    sim -= TIME_DECAY * gap / self._win
            scored.append((doc, sim))
            if len(scored) >= TOP_CANDIDATES:
                break
        return scored


@dataclass(frozen=True)
class StoryMatch:
    story_id: int
    score: float  # the story's score (see StoryIndex.best_story)
    doc: _Doc  # its member most similar to the document
    similarity: float  # that member's similarity
    members: int  # how many of its members were similar
    shared: list[str]  # the terms the document shares most with that member


@dataclass(frozen=True)
class NearCandidate:
    """An earlier item or a seed offered by the store as a possible original."""

    item_id: int | None
    seed_id: int | None
    title: str
    shingles: frozenset[int]
    story_id: int | None
    duplicate_of: int | None = None  # if the candidate is itself a copy, point at its original
    feed_url: str | None = None  # None for seeds
    when: datetime | None = None  # published, else fetched (items)
    source: str | None = None  # the outlet a news aggregator's entry names (items.source)
    duplicate_of_seed: int | None = None  # if the candidate is a copy of a seed, that seed
    article: str | None = None  # the name its address gives the article on its site (normalise.article_slug)


@dataclass(frozen=True)
class Thresholds:
    near_duplicate: float = 0.6
    story: float = 0.2
    window: timedelta = timedelta(hours=72)


@dataclass(frozen=True)
class SeedAtUrl:
    """The seed article whose own page gave the new item's canonical URL."""

    seed_id: int
    title: str
    story_id: int | None


def short_title(title: str, limit: int = 60) -> str:
    return title if len(title) <= limit else title[: limit - 3].rstrip() + "..."


@dataclass(frozen=True)
class SameUrl:
    """The earlier item with the same canonical URL, or (``filed_at``) the same article at another address of
    its site (see normalise.article_slug): that address."""

    item_id: int
    story_id: int | None
    title: str
    when: datetime | None
    filed_at: str | None = None


def decide(
    *,
    title: str,
    text: str,
    when: datetime,
    same_url: SameUrl | None,
    near: list[NearCandidate],
    stories: StoryIndex,
    terms: dict[str, float],
    th: Thresholds,
    mine: set[int] | frozenset[int] | None = None,
    feed_url: str | None = None,
    seed_at_url: SeedAtUrl | None = None,
    source: str | None = None,
    series: bool = False,
    article: str | None = None,
) -> DedupDecision:
    """Classify a new item. The rule order is the one in the module docstring. ``series``: the headline
    is the feed's recurring one (see recurring_title), and ``terms`` are those of the text alone.
    ``article``: the name the item's address gives the article on its site (normalise.article_slug)."""
    if same_url is None and seed_at_url is not None:  # the seed article itself, often with no text to compare
        reason = f'same URL as seed "{short_title(seed_at_url.title)}"'
        return DedupDecision(
            level="near-duplicate",
            duplicate_of_seed=seed_at_url.seed_id,
            similarity=1.0,
            reason=reason,
            story_id=seed_at_url.story_id,
            story_similarity=1.0,
            story_reason=reason,
        )
    if same_url is not None:
        # A living page (one URL, a new article under a new title much later) is a new item: showing
        # it as a copy of the old article would hide it.
        if not moved_on(title, when, same_url.title, same_url.when, th.window):
            return DedupDecision(
                level="same-item",
                duplicate_of=same_url.item_id,
                similarity=1.0,
                reason=filed_elsewhere(same_url.filed_at) if same_url.filed_at else "same canonical URL",
                story_id=same_url.story_id,
                story_similarity=1.0,
                story_reason="same article",
            )
        story = _story(terms, when, stories, th)
        where = "same article name" if same_url.filed_at else "same URL"
        return replace(story, reason=f"{where} as item #{same_url.item_id}, but now another article")
    if mine is None:
        mine = shingles(title, text)
    best: tuple[float, NearCandidate, str | None] | None = None  # similarity, candidate, headline rule
    my_title = title_words(title)
    boilerplate = False
    no_text = not text.strip()
    for cand in near:
        recurring = _recurring(cand, feed_url, source)
        bare = (no_text or recurring) and cand.shingles <= frozenset(shingles(cand.title))  # a headline alone
        if recurring and (no_text or bare):
            continue  # the feed's recurring headline, and no text to tell a re-post from the next issue
        if no_text and bare and not _comparable_headlines(title, cand, when, th):
            continue  # two headlines alone: a short one ("Morning Briefing") is no article's own
        sim = similarity(mine, cand.shingles)
        same_title = _jaccard(my_title, title_words(cand.title)) >= SAME_TITLE
        if same_title and sim < REFILED and cand.feed_url == feed_url and _two_articles(article, cand.article):
            continue  # the site's next article under the headline: a series' issue ("Roundup: Market Talk")
        by_headline: str | None = None
        if same_title and sim < th.near_duplicate and not recurring:
            headline, note = _headline_match(title, text, cand, when, th, feed_url)
            if headline > sim:
                sim, by_headline = headline, note
        # within one feed, long shared text under another title is a promo or a caption, unless it is
        # a whole article (twice the shared text asked of other copies) that opens the same way under a
        # headline that keeps some of its words: the article re-posted under an edited headline
        repost = (
            cand.feed_url == feed_url
            and not same_title
            and len(mine & cand.shingles) >= 2 * MIN_SHARED_TEXT
            and _jaccard(my_title, title_words(cand.title)) >= REPOST_TITLE
            and _same_lede(text, cand.shingles)
        )
        if sim >= 0.5 and cand.feed_url == feed_url and not same_title and not repost:
            boilerplate = True  # this feed's text repeats under another title: a caption or a promo
        if sim < th.near_duplicate:
            continue
        # Under a different title, only substantial shared text makes a copy: feeds reuse photo
        # captions and boilerplate descriptions across unrelated articles; and within one feed,
        # long boilerplate (a channel's promo text) too, so there the title must match as well.
        if not same_title and (
            len(mine & cand.shingles) < _shared_needed(my_title, cand.title)
            or (cand.feed_url == feed_url and not repost)
        ):
            continue
        if best is not None and _unrelated(best[1], cand):
            # the text is in two different articles: a publisher's boilerplate (a paywall notice, a podcast's
            # blurb under every episode), not this article's; only the headline tells the story
            best, boilerplate = None, True
            break
        if best is None or sim > best[0]:
            best = (sim, cand, by_headline)
    if best is not None:
        sim, cand, by_headline = best
        reason = near_reason("seed" if cand.seed_id is not None else "item", cand.title, sim, by_headline)
        seed = cand.seed_id or cand.duplicate_of_seed  # a copy of a seed's copy is a copy of the seed
        if cand.duplicate_of_seed:
            reason += f", a copy of seed #{cand.duplicate_of_seed}"
        return DedupDecision(
            level="near-duplicate",
            duplicate_of=None if seed else cand.duplicate_of or cand.item_id,
            duplicate_of_seed=seed,
            similarity=round(sim, 3),
            reason=reason,
            story_id=cand.story_id,
            story_similarity=round(sim, 3),
            story_reason=reason,
        )
    if (no_text or boilerplate) and short_headline(title):
        # a short headline alone ("Morning Briefing", "Live updates") is every outlet's: no story's evidence
        return DedupDecision(level="new", reason=BOILERPLATE if boilerplate else None, story_reason=SHORT_ALONE)
    if boilerplate:  # the shared text says nothing about the story: compare titles only
        return replace(_story({} if series else story_terms(title, ""), when, stories, th, series), reason=BOILERPLATE)
    return _story(terms, when, stories, th, series)


def _unrelated(a: NearCandidate, b: NearCandidate) -> bool:
    """Two earlier items (or seeds) that are different articles: not one story (a copy joins its original's
    story, a seed's copies the seed's), not copies of one original, and headlines with next to nothing in
    common."""
    if a.story_id is not None and a.story_id == b.story_id:
        return False
    root_a, root_b = a.duplicate_of or a.item_id, b.duplicate_of or b.item_id
    if root_a is not None and root_a == root_b:
        return False
    return _jaccard(title_words(a.title), title_words(b.title)) < REPOST_TITLE


def _shared_needed(my_title: set[str], title: str) -> int:
    """Shingles a copy under another title must share: MIN_SHARED_TEXT, or half as many when the headlines
    share a good part of their words (an edited headline over the same opening: a caption reused under an
    unrelated headline does not pass)."""
    return MIN_SHARED_TEXT // 2 if _jaccard(my_title, title_words(title)) >= RELATED_TITLE else MIN_SHARED_TEXT


def near_reason(what: str, title: str, sim: float, by_headline: str | None = None) -> str:
    """Why an item is a near-duplicate of an item or seed titled ``title``; ``by_headline`` says why the
    headline decided (HEADLINE_ONLY or HEADLINE_LONG)."""
    if by_headline:  # a news aggregator's entry and the outlet's report; an excerpt and a standfirst
        return f'near-duplicate of {what} "{short_title(title)}": the same headline ({sim:.2f}), {by_headline}'
    return f'near-duplicate of {what} "{short_title(title)}" ({sim:.2f})'


BOILERPLATE = "its text is also under other articles (a caption, a promo, a paywall notice): headline compared"
FEED_BLURB = "its text is mostly the words of its feed's other texts (a channel's or a show's blurb): headline compared"
HEADLINE_ONLY = "one without text"
HEADLINE_LONG = "each with other text"
FILED_ELSEWHERE = "(its site filed it at another address)"


def filed_elsewhere(address: str) -> str:
    """The reason of a same-item found by its article's name (normalise.article_slug) at ``address``."""
    return f"same article as {address} {FILED_ELSEWHERE}"


def moved_on(title: str, when: datetime, old_title: str, old_when: datetime | None, window: timedelta) -> bool:
    """A URL now carrying another article (a "living page": a daily briefing, a live blog): a new headline
    sharing few words with the old one, outside the story window."""
    return (
        _jaccard(title_words(title), title_words(old_title)) < 0.3
        and old_when is not None
        and abs(when - old_when) > window
    )


SHORT_ALONE = f"first item of the story: a headline of under {HEADLINE_WORDS} words and no text tells no story"
SERIES = "its headline is the feed's recurring one (a newsletter's, a column's): its text alone compared"


def short_headline(title: str) -> bool:
    """A headline too short to be one article's own (fewer than HEADLINE_WORDS words): "Morning Briefing"."""
    return len(words(title)) < HEADLINE_WORDS


def series_key(feed_url: str | None, source: str | None, title: str) -> tuple[str, str, tuple[str, ...]] | None:
    """What a feed's recurring headline is known by: the feed, the outlet it names, the headline's words; None
    for a headline long enough to be one article's own, or none."""
    head = words(title)
    return (feed_url or "", fold(source or ""), head) if 0 < len(head) < HEADLINE_WORDS else None


def recurring_title(title: str, near: list[NearCandidate], feed_url: str | None, source: str | None) -> bool:
    """Whether the feed has published this very short headline before (see series_key): "Morning Briefing",
    "Weekly links", a forum's "Daily Discussion Thread" name a series, not an event. In story similarity such
    a headline would join every issue to the last one (and the next day's to both), so only its text is
    compared. A longer one again in the feed is another piece on the same event (the article, then its
    video: "Montana becomes first state to ban TikTok")."""
    key = series_key(feed_url, source, title)
    return key is not None and any(
        c.item_id is not None and series_key(c.feed_url, c.source, c.title) == key for c in near
    )


def _two_articles(mine: str | None, theirs: str | None) -> bool:
    """Whether two addresses name two different articles of one site (normalise.article_slug): a site files a
    series' issues (a weekly "Tech, Media & Telecom Roundup: Market Talk", a daily briefing) under one headline
    and a text written to one template ("X, Y and more in the latest Market Talks covering..."), each with
    an id of its own; a copy of one of its articles at another of its addresses keeps the article's name."""
    if not mine or not theirs or mine == theirs:
        return False
    return article_site(mine) == article_site(theirs)


def _recurring(cand: NearCandidate, feed_url: str | None, source: str | None) -> bool:
    """Whether a headline again in the same feed is the feed's recurring title ("The China tech briefing:
    what you need to know", every morning), not a copy. A news aggregator's feed listing one wire story at
    two outlets names two different outlets: that is a copy."""
    if cand.feed_url is None or cand.feed_url != feed_url:
        return False
    return not (source and cand.source and fold(source) != fold(cand.source))


def _comparable_headlines(title: str, cand: NearCandidate, when: datetime, th: Thresholds) -> bool:
    """Whether two headlines can tell that they are one article's: both of HEADLINE_WORDS or more, and
    within the story window (a seed at any time): "Morning Briefing" is every outlet's, and a recurring
    headline ("Apple reports record quarterly revenue") is another article a year later."""
    if short_headline(title) or short_headline(cand.title):
        return False
    return cand.item_id is None or (cand.when is not None and abs(when - cand.when) <= th.window)


def _headline_match(
    title: str, text: str, cand: NearCandidate, when: datetime, th: Thresholds, feed_url: str | None = None
) -> tuple[float, str]:
    """A news aggregator's entry is often the headline alone (Google News: the outlet's name stripped, no
    text). Against the outlet's own report under the same headline, its few shingles are all there is to
    compare, and the report's text dilutes them: when one side is a headline alone of HEADLINE_WORDS or
    more, compare the headlines (Jaccard of their shingles), within the story window (a recurring headline,
    "Apple reports record quarterly revenue", is another article a year later). Returns the similarity
    and which case decided it (HEADLINE_ONLY or HEADLINE_LONG, for the reason)."""
    if not _comparable_headlines(title, cand, when, th):
        return 0.0, HEADLINE_ONLY
    head, cand_head = shingles(title), shingles(cand.title)
    same = len(head & cand_head) / len(head | cand_head)
    if text.strip() and not cand.shingles <= cand_head:
        # both have text, and it differs: one outlet's excerpt of an article, another's standfirst (a seed
        # is the whole article, a feed its dek). The very headline, long enough to be one article's own,
        # from another feed and published within the story window (a seed too: "US adds dozens of Chinese
        # companies to trade blacklist" comes back every few months), still makes a copy; anything less,
        # and the text decides.
        if (
            same >= SAME_HEADLINE
            and len(words(title)) >= LONG_HEADLINE
            and cand.feed_url != feed_url
            and cand.when is not None
            and abs(when - cand.when) <= th.window
        ):
            return same, HEADLINE_LONG
        return 0.0, HEADLINE_LONG
    return same, HEADLINE_ONLY


CLOSEST = "closest:"
_CLOSEST_ITEM = re.compile(rf"{CLOSEST} story #(\d+) by item #(\d+)")
_CLOSEST_SEED = re.compile(rf"{CLOSEST} seed #(\d+) \(")


def closest_seed(story_reason: str | None) -> int | None:
    """The id of the seed a report came closest to following up without doing so, as _story noted it."""
    m = _CLOSEST_SEED.search(story_reason or "")
    return int(m[1]) if m else None


def closest_story(story_reason: str | None) -> tuple[int, int] | None:
    """(story id, item id) of the story a report came closest to without joining it, as _story noted it."""
    m = _CLOSEST_ITEM.search(story_reason or "")
    return (int(m[1]), int(m[2])) if m else None


def _story(
    terms: dict[str, float], when: datetime, stories: StoryIndex, th: Thresholds, series: bool = False
) -> DedupDecision:
    """Rule 3: join the best-scoring story among the recent items and seeds (see
    StoryIndex.best_story) when its score reaches the threshold, else a new story."""
    m = stories.best_story(terms, when) if terms else None
    note = f"; {SERIES}" if series else ""
    held = stories.held_seed(terms) if terms else None
    if held is not None and (m is None or m.score < min(th.story, held[1])):
        key, sim, words = held  # a seed it would have followed up, were the seed of its time
        return DedupDecision(
            level="new",
            story_reason=f"first item of the story; {CLOSEST} seed #{-key} ({sim:.2f}, under the "
            f"{stories.follow_up:.2f} a report needs to follow up a seed after its time; shared: "
            f"{', '.join(words) or 'no term'}){note}",
        )
    if m is None:  # nothing alike (best_story counts only positive similarities)
        return DedupDecision(level="new", story_reason=f"first item of the story; {SERIES}" if series else None)
    other = _member(m)
    shared = ", ".join(m.shared) or "no term"
    if m.score < th.story:  # the closest story it did not join, for `explain`: why a report stands alone
        return DedupDecision(
            level="new",
            story_reason=f"first item of the story; {CLOSEST} story #{m.story_id} by {other} "
            f"({m.score:.2f}, under the threshold {th.story:.2f}; shared: {shared}){note}",
        )
    return DedupDecision(
        level="new", story_id=m.story_id, story_similarity=round(m.score, 3), story_reason=_joined(m) + note
    )


def _member(m: StoryMatch) -> str:
    """The story's member a report is closest to, as reasons name it."""
    return f"seed #{-m.doc.key}" if m.doc.key < 0 else f"item #{m.doc.key}"


def _joined(m: StoryMatch) -> str:
    """Why a report joined the story ``m`` names: its closest member, how many others matched, the words."""
    more = f" and {m.members - 1} more of its items" if m.members > 1 else ""
    return f"same story as {_member(m)}{more} ({m.score:.2f}; shared: {', '.join(m.shared) or 'no term'})"


def rejoined(m: StoryMatch | None, story_id: int, by: int, th: Thresholds) -> DedupDecision | None:
    """A report that started a story of its own, scored again (StoryIndex.rejoin) when item ``by`` joined
    ``story_id``: it joins that story if it is now its best, on evidence stronger than a new report needs
    (LATE_JOIN: it was placed already, and a digest may have shown it alone); else None."""
    if m is None or m.story_id != story_id or m.score < th.story * LATE_JOIN:
        return None
    return DedupDecision(
        level="new",
        story_id=m.story_id,
        story_similarity=round(m.score, 3),
        story_reason=f"{_joined(m)}; it came first and stood alone, and joined when item #{by} showed the story "
        "had grown",
    )
