"""Trials of other story-similarity ideas for issue #4, measured on a labelled JSONL set (not `make bench`).

    python bench/story_trials.py [FILE.jsonl] [--headlines-only]

Two tables. First, before any clustering: every pair of gold positives published within the story window
(72 h) is ranked by a similarity, and the share of same-story pairs found at pairwise precision 0.9 / 0.8 /
0.7 is printed (what a threshold on that similarity alone could reach). Second, the whole set replayed
through the real pipeline (bench/eval_stories.py) with one change to how a new item picks its story.

The ideas:
- places: two headlines that each name a place (country, demonym, US state) and none in common are
  reports of different decisions ("Canada bans TikTok on government devices" / "TikTok banned on US
  government devices"): their similarity is lowered by PENALTY.
- burst: a term counts more when it is much commoner in the last 48 h than in the 30 days before
  (weight x (1 + 0.6 log ratio)): "hearing" on the day of a hearing.
- centroid: a story is also scored by the cosine of the item to the sum of its members' vectors (less
  the time penalty to its nearest member), the best of that and the usual score.
- capped size: a story's size counted up to CAP in its score's square-root normalisation (a big story
  is as easy to join as one of CAP reports).
- characters: TF-IDF on character 3-5-grams of headline and lede (words padded with a space, as
  scikit-learn's char_wb), the headline baseline the issue quotes, instead of the pipeline's terms.
- eased: a report's time penalty eased by its story's size n (x 1 / (1 + ln n) and gentler forms): a big
  event is written about for days.
- headline merges (after the replay): two stories joined when a report of each has nearly the same headline.
- porter stems: "es" taken off only after s, x, z, sh, ch, and a final "e" dropped ("force" / "forced",
  "probe" / "probes" meet), in place of the pipeline's light stemmer.
- word pairs: each two adjacent story terms of the headline and the lede as a term of their own (at a share of
  their words' weight), so that shared phrases ("Shou Chew", "export controls") count.
- synonyms: a news thesaurus's groups of words for one thing ("curbs" / "restrictions" / "limits", "sues" /
  "lawsuit", "probe" / "investigation", "firms" / "companies", "chips" / "semiconductors", "metals" /
  "minerals", "ban" / "bar" / "prohibit") as one story term each.
- wordllama: WordLlama's 256-d static embeddings (PyPI `wordllama`, weights in the package) added to the
  TF-IDF cosine (only when it is installed; it needs numpy).
The figures on topic-dev are in BENCHMARKS.md (Notes). None of these is in the pipeline.
--headlines-only drops every description first and prints the first table only.
"""

from __future__ import annotations

import bisect
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import eval_stories  # noqa: E402

from aggregator import dedup  # noqa: E402
from aggregator.normalise import html_to_text  # noqa: E402
from aggregator.poll import Pipeline  # noqa: E402

WINDOW = 72 * 3600.0
PENALTY = 0.1
_PLACES = {
    **dict.fromkeys("us u.s usa america american americans washington".split(), "us"),
    **dict.fromkeys("china chinese beijing".split(), "china"),
    **dict.fromkeys("uk britain british london england scotland scottish wales welsh".split(), "uk"),
    **dict.fromkeys("eu europe european brussels".split(), "eu"),
    **{"canada": "canada", "canadian": "canada", "ottawa": "canada", "japan": "japan", "japanese": "japan"},
    **{"netherlands": "netherlands", "dutch": "netherlands", "taiwan": "taiwan", "taiwanese": "taiwan"},
    **{"india": "india", "indian": "india", "australia": "australia", "australian": "australia"},
    **{"france": "france", "french": "france", "germany": "germany", "german": "germany"},
    **{"korea": "korea", "korean": "korea", "russia": "russia", "russian": "russia", "italy": "italy"},
    **{"new zealand": "new zealand", "hong kong": "hong kong", "belgium": "belgium", "denmark": "denmark"},
    **{p: p for p in "norway sweden austria vietnam indonesia pakistan nepal kenya malaysia singapore".split()},
    **{p: p for p in "philippines estonia latvia poland ukraine".split()},
    **{
        s: s
        for s in (
            "alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho "
            "illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota "
            "mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah "
            "vermont virginia wisconsin wyoming"
        ).split()
    },
    **{s: s for s in ("new hampshire", "new jersey", "new mexico", "new york", "north carolina", "south carolina")},
    **{s: s for s in ("north dakota", "south dakota", "rhode island", "west virginia")},
}
_PLACE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _PLACES), key=len, reverse=True)) + r")\b", re.I)


def places(title: str) -> frozenset[str]:
    return frozenset(_PLACES[m.group(1).lower()] for m in _PLACE.finditer(title))


def _conflict(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a and b and not a & b)


# --- before clustering -----------------------------------------------------------------------------


def burst_weights(rows: list[dict]) -> Callable[[int, dict[str, float]], dict[str, float]]:
    """The terms of row i weighted by their burst: x (1 + 0.6 log(rate in the last 48 h / rate in the 30 days
    before)), the rates counted over the rows published up to row i's time."""
    times = [r["t"] for r in rows]
    seen: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        for t in dedup.story_terms(r["ti"], r["de"]):
            seen[t].append(r["t"])

    def between(lst: list[float], a: float, b: float) -> int:
        return bisect.bisect_right(lst, b) - bisect.bisect_left(lst, a)

    def weigh(i: int, terms: dict[str, float]) -> dict[str, float]:
        t = times[i]
        recent, base = t - 48 * 3600, t - 30 * 86400
        n_recent, n_base = between(times, recent, t) + 1, between(times, base, recent) + 1
        out = {}
        for w, x in terms.items():
            ratio = (between(seen[w], recent, t) / n_recent) / ((between(seen[w], base, recent) + 2) / n_base)
            out[w] = x * (1 + 0.6 * math.log(max(1.0, ratio)))
        return out

    return weigh


def separability(rows: list[dict]) -> None:
    times = [r["t"] for r in rows]
    terms = [dedup.story_terms(r["ti"], r["de"]) for r in rows]
    burst = burst_weights(rows)

    def unit(features: list[dict[str, float]]) -> list[dict[str, float]]:
        df = Counter(t for f in features for t in f)
        out = []
        for f in features:
            v = {t: (1 + math.log(x)) * math.log((len(rows) + 2) / (df[t] + 1)) for t, x in f.items()}
            n = math.sqrt(sum(a * a for a in v.values())) or 1.0
            out.append({t: a / n for t, a in v.items()})
        return out

    plain, bursty = unit(terms), unit([burst(i, f) for i, f in enumerate(terms)])
    grams = unit([char_grams(f"{r['ti']}. {' '.join(r['de'].split()[:60])}") for r in rows])
    where = [places(r["ti"]) for r in rows]
    emb = _wordllama(rows)
    pos = [i for i, r in enumerate(rows) if r["story"]]
    pairs = []
    for a, i in enumerate(pos):
        for j in pos[a + 1 :]:
            lag = (times[j] - times[i]) / WINDOW
            if lag > 1:
                break
            cos = sum(x * plain[j].get(t, 0.0) for t, x in plain[i].items())
            cos_b = sum(x * bursty[j].get(t, 0.0) for t, x in bursty[i].items())
            e = sum(x * y for x, y in zip(emb[i], emb[j], strict=True)) if emb else 0.0
            g = sum(x * grams[j].get(t, 0.0) for t, x in grams[i].items())
            same = rows[i]["story"] == rows[j]["story"]
            pairs.append((cos, cos_b, e, _conflict(where[i], where[j]), lag, g, same))
    total = sum(p[-1] for p in pairs)
    variants: list[tuple[str, Callable[..., float]]] = [
        ("TF-IDF (the pipeline's terms), less 0.5 x lag", lambda c, b, e, k, lag, g: c - 0.5 * lag),
        ("... and headlines naming different places", lambda c, b, e, k, lag, g: c - 0.5 * lag - PENALTY * k),
        ("... burst-weighted terms instead", lambda c, b, e, k, lag, g: b - 0.5 * lag),
        ("... character 3-5-grams instead", lambda c, b, e, k, lag, g: g - 0.5 * lag),
    ]
    if emb:
        variants.append(("TF-IDF + 0.3 x WordLlama cosine", lambda c, b, e, k, lag, g: c + 0.3 * e - 0.5 * lag))
    print(f"{total} same-story pairs within 72 h; share found at pairwise precision 0.9 / 0.8 / 0.7\n")
    print("| similarity | P 0.9 | P 0.8 | P 0.7 |\n|---|---|---|---|")
    for name, fn in variants:
        ranked = sorted(((fn(*p[:6]), p[-1]) for p in pairs), key=lambda x: -x[0])
        found, tp, fp = {0.9: 0.0, 0.8: 0.0, 0.7: 0.0}, 0, 0
        for _, same in ranked:
            tp, fp = tp + same, fp + (not same)
            for level in found:
                if tp / (tp + fp) >= level:
                    found[level] = tp / total
        print(f"| {name} | " + " | ".join(f"{found[k]:.3f}" for k in (0.9, 0.8, 0.7)) + " |", flush=True)


def char_grams(text: str) -> Counter[str]:
    """Character 3-5-grams of each word padded with a space (scikit-learn's analyzer="char_wb")."""
    grams: Counter[str] = Counter()
    for word in re.findall(r"\w+", text.lower()):
        padded = f" {word} "
        for n in (3, 4, 5):
            grams.update(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


def _wordllama(rows: list[dict]) -> list[list[float]] | None:
    try:
        import wordllama  # type: ignore[import-not-found]
    except ImportError:
        return None
    wl = wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
    texts = [f"{r['ti']}. {' '.join(r['de'].split()[:40])}" for r in rows]
    return wl.embed(texts, norm=True).tolist()


# --- through the pipeline ------------------------------------------------------------------------


def patched(
    penalty: float,
    centroid: float | None,
    burst: Callable[[int, dict[str, float]], dict[str, float]] | None,
    rows: list[dict],
) -> Callable[[], None]:
    """Change how a new item picks its story for one replay; returns the function that undoes it."""
    row_of = {r["id"]: i for i, r in enumerate(rows)}
    current: dict[str, int | None] = {"row": None}
    ingest = Pipeline.ingest
    story_terms, add, scored, best = (
        dedup.story_terms,
        dedup.StoryIndex.add,
        dedup.StoryIndex._scored,
        dedup.StoryIndex.best_story,
    )
    where: dict[int, frozenset[str]] = {}
    sums: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    stamps: dict[int, list[float]] = defaultdict(list)

    class Terms(dict):
        place: frozenset[str] = frozenset()

    def ingest_(self, item, now, report):
        current["row"] = row_of.get(item.guid)
        try:
            return ingest(self, item, now, report)
        finally:
            current["row"] = None

    def story_terms_(title, text, max_text_words=None):
        out = Terms(story_terms(title, text, max_text_words))
        if burst is not None and current["row"] is not None and max_text_words is None:
            out = Terms(burst(current["row"], out))
        out.place = places(title)
        return out

    def add_(self, key, story_id, when, terms, **kw):
        add(self, key, story_id, when, terms, **kw)
        where[key] = getattr(terms, "place", frozenset())
        if story_id is not None:
            vec, norm = self._vector(terms)
            for t, w in sorted(vec.items(), key=lambda kv: -kv[1])[: dedup.DOC_TERMS]:
                sums[story_id][t] += w / norm
            if when is not None:
                stamps[story_id].append(when.timestamp())

    def scored_(self, terms, when):
        vec, found = scored(self, terms, when)
        mine = getattr(terms, "place", frozenset())
        return vec, [(d, s - penalty * _conflict(mine, where.get(d.key, frozenset()))) for d, s in found]

    def best_(self, terms, when):
        m = best(self, terms, when)
        if m is None or centroid is None:
            return m
        vec, norm = self._vector(terms)
        ts = when.timestamp()
        stories = {d.story_id for d, s in scored_(self, terms, when)[1] if d.story_id is not None and s > 0}
        for story in stories:
            c = sums[story]
            cos = sum(v * c.get(t, 0.0) for t, v in vec.items()) / (
                norm * (math.sqrt(sum(x * x for x in c.values())) or 1)
            )
            lag = min((abs(x - ts) for x in stamps[story]), default=0.0)
            score = centroid * (cos - dedup.TIME_DECAY * lag / self._win)
            if score > m.score:
                m = dedup.StoryMatch(story, score, m.doc, m.similarity, m.members, m.shared)
        return m

    dedup.story_terms, dedup.StoryIndex.add, Pipeline.ingest = story_terms_, add_, ingest_
    dedup.StoryIndex._scored, dedup.StoryIndex.best_story = scored_, best_

    def undo() -> None:
        dedup.story_terms, dedup.StoryIndex.add, Pipeline.ingest = story_terms, add, ingest
        dedup.StoryIndex._scored, dedup.StoryIndex.best_story = scored, best

    return undo


def capped(cap: int) -> Callable[[], None]:
    """Score stories as if none had more than ``cap`` members; returns the function that undoes it."""
    best = dedup.StoryIndex.best_story

    def best_(self, terms, when):
        sizes = self.story_size
        self.story_size = {s: min(n, cap) for s, n in sizes.items()}
        try:
            return best(self, terms, when)
        finally:
            self.story_size = sizes

    dedup.StoryIndex.best_story = best_

    def undo() -> None:
        dedup.StoryIndex.best_story = best

    return undo


def recent(alpha: float) -> Callable[[], None]:
    """Count a report's time penalty partly (1 - alpha) from its story's latest report rather than from its own
    time, so that a story still being reported stays as easy to join as when it began; returns the undo."""
    add, scored = dedup.StoryIndex.add, dedup.StoryIndex._scored
    latest: dict[int, float] = {}

    def add_(self, key, story_id, when, terms, **kw):
        add(self, key, story_id, when, terms, **kw)
        if story_id is not None and when is not None:
            latest[story_id] = max(latest.get(story_id, 0.0), when.timestamp())

    def scored_(self, terms, when):
        vec, found = scored(self, terms, when)
        ts, out = when.timestamp(), []
        for d, s in found:
            if d.ts is not None and d.story_id in latest:
                own = abs(d.ts - ts)
                s += dedup.TIME_DECAY * (1 - alpha) * (own - min(own, abs(latest[d.story_id] - ts))) / self._win
            out.append((d, s))
        return vec, out

    dedup.StoryIndex.add, dedup.StoryIndex._scored = add_, scored_

    def undo() -> None:
        dedup.StoryIndex.add, dedup.StoryIndex._scored = add, scored

    return undo


def _refunded(refund: Callable[[dedup.StoryIndex, Any, float], float]) -> Callable[[], None]:
    """Give a candidate back part of its time penalty: ``refund(index, candidate, gap)``, the gap as a share of
    the story window, is added to its similarity (seeds, undated, are left as they are); returns the undo."""
    scored = dedup.StoryIndex._scored

    def scored_(self, terms, when):
        vec, found = scored(self, terms, when)
        ts = when.timestamp()
        return vec, [(d, s if d.ts is None else s + refund(self, d, abs(d.ts - ts) / self._win)) for d, s in found]

    dedup.StoryIndex._scored = scored_

    def undo() -> None:
        dedup.StoryIndex._scored = scored

    return undo


def eased(form: Callable[[int], float]) -> Callable[[], None]:
    """Ease a report's time penalty by its story's size n (the penalty times ``form(n)``): a big event is
    written about for days; returns the undo."""
    return _refunded(
        lambda index, d, gap: (
            0.0 if d.story_id is None else dedup.TIME_DECAY * gap * (1 - form(index.story_size.get(d.story_id, 1)))
        )
    )


def shaped(form: Callable[[float], float]) -> Callable[[], None]:
    """A report's time penalty as ``TIME_DECAY x form(gap / window)`` instead of in proportion to the gap (a
    day's reports alike whatever their hour, the penalty rising later); returns the undo."""
    return _refunded(lambda index, d, gap: dedup.TIME_DECAY * (gap - form(gap)))


SHAPES = {
    "gap ** 2": lambda g: g * g,
    "gap ** 1.5": lambda g: g**1.5,
    "free for 24 h": lambda g: max(0.0, g - 1 / 3) / (2 / 3),
    "gap ** 0.5": lambda g: g**0.5,
}


_ES_AFTER = ("sses", "shes", "ches", "xes", "zes")


def porter_stem(w: str) -> str:
    """Closer to Porter's first step than `dedup._stem`: "es" only after s, x, z, sh, ch; a final "e" dropped."""
    if len(w) <= 4 or w.isdigit():
        return w
    if w.endswith("ies") and len(w) > 5:
        w = w[:-3] + "y"
    elif w.endswith(_ES_AFTER):
        w = w[:-2]
    elif w.endswith("ing") and len(w) >= 6:
        w = w[:-3]
    elif w.endswith("ed") and len(w) >= 5:
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":
        w = w[:-1]
    return w[:-1] if len(w) > 3 and w.endswith("e") else w


def stemmed(stem: Callable[[str], str]) -> Callable[[], None]:
    """Story terms stemmed by ``stem``; returns the undo."""
    before = dedup._stem
    dedup._stem = stem

    def undo() -> None:
        dedup._stem = before

    return undo


def word_pairs(share: float) -> Callable[[], None]:
    """Story terms with each two adjacent terms of the headline and the lede added as one more term, at ``share``
    of their words' weight; returns the undo."""
    before = dedup.story_terms

    def with_pairs(title: str, text: str, max_text_words: int | None = None) -> dict[str, float]:
        tf = dict(before(title, text, max_text_words))
        if dedup.is_photo_caption(text):
            text = ""
        ws = dedup.words(text)
        lede = tuple(dedup._terms(ws[: max_text_words or dedup.LEDE_WORDS]))
        for seq, weight in ((tuple(dedup._terms(dedup.words(title))), dedup.TITLE_WEIGHT), (lede, 1.0)):
            for a, b in pairwise(seq):
                tf[f"{a}_{b}"] = tf.get(f"{a}_{b}", 0.0) + share * weight
        return tf

    dedup.story_terms = with_pairs

    def undo() -> None:
        dedup.story_terms = before

    return undo


SYNONYMS = {
    "restrict": "curb curbs curbed curbing restrict restricts restricted restricting restriction restrictions limit "
    "limits limited limiting clampdown crackdown",
    "sue": "sue sues sued suing lawsuit lawsuits suit suits",
    "probe": "probe probes probed probing investigation investigations investigate investigates investigated "
    "investigating inquiry inquiries",
    "company": "firm firms company companies",
    "chip": "chip chips semiconductor semiconductors chipmaker chipmakers",
    "metal": "metal metals mineral minerals",
    "ban": "ban bans banned banning bar bars barred barring prohibit prohibits prohibited prohibiting prohibition",
}


def synonyms(groups: list[str]) -> Callable[[], None]:
    """Story terms with each word of a SYNONYMS group as the group's one term; returns the undo."""
    one = {dedup._stem(w): f"syn_{g}" for g in groups for w in SYNONYMS[g].split()}
    before = dedup._terms

    def grouped(ws):
        return (one.get(t, t) for t in before(ws))

    dedup._terms = grouped
    dedup._lede_terms.cache_clear()

    def undo() -> None:
        dedup._terms = before
        dedup._lede_terms.cache_clear()

    return undo


EASED = {
    "1 / (1 + ln n)": lambda n: 1 / (1 + math.log(n)),
    "1 / (1 + 0.25 ln n)": lambda n: 1 / (1 + 0.25 * math.log(n)),
    "n ** -0.25": lambda n: n**-0.25,
}


def replays(rows: list[dict]) -> None:
    print("\n| change | story threshold | pairwise P | pairwise R | F1 | B-cubed P | B-cubed R |")
    print("|---|---|---|---|---|---|---|")
    burst = burst_weights(rows)
    grid = [("none", 0.0, None, False, th) for th in (0.18, 0.2)]
    grid += [("places", PENALTY, None, False, th) for th in (0.16, 0.17, 0.18, 0.2)]
    grid += [(f"centroid x {c}", 0.0, c, False, 0.2) for c in (0.8, 0.9, 1.0)]
    grid += [(f"places, centroid x {c}", PENALTY, c, False, 0.2) for c in (0.8, 0.9)]
    grid += [("burst", 0.0, None, True, th) for th in (0.2, 0.22, 0.25)]
    for name, penalty, centroid, bursty, th in grid:
        cells = eval_stories.replay_patched(
            rows, th, partial(patched, penalty, centroid, burst if bursty else None, rows)
        )
        print(f"| {name} | {th} | {cells} |", flush=True)
    for cap, th in ((9, 0.2), (9, 0.22), (16, 0.2)):
        cells = eval_stories.replay_patched(rows, th, partial(capped, cap))
        print(f"| size capped at {cap} | {th} | {cells} |", flush=True)
    for alpha, th in ((0.0, 0.2), (0.0, 0.3), (0.5, 0.2), (0.5, 0.25)):
        cells = eval_stories.replay_patched(rows, th, partial(recent, alpha))
        print(f"| time penalty {1 - alpha:.0%} from the story's latest report | {th} | {cells} |", flush=True)
    for name, form in EASED.items():
        for th in (0.2, 0.22, 0.25):
            cells = eval_stories.replay_patched(rows, th, partial(eased, form))
            print(f"| time penalty x {name} (story size n) | {th} | {cells} |", flush=True)
    for name, th in (
        ("gap ** 2", 0.2),
        ("gap ** 2", 0.25),
        ("gap ** 1.5", 0.22),
        ("gap ** 1.5", 0.25),
        ("free for 24 h", 0.2),
        ("free for 24 h", 0.25),
        ("gap ** 0.5", 0.18),
    ):
        cells = eval_stories.replay_patched(rows, th, partial(shaped, SHAPES[name]))
        print(f"| time penalty x {name} (gap as a share of the window) | {th} | {cells} |", flush=True)
    for th in (0.2, 0.21, 0.22):
        cells = eval_stories.replay_patched(rows, th, partial(stemmed, porter_stem))
        print(f"| porter stems | {th} | {cells} |", flush=True)
    for share, th in ((0.5, 0.2), (0.5, 0.12), (0.5, 0.1), (0.5, 0.08), (0.25, 0.17), (0.25, 0.14), (0.25, 0.12)):
        cells = eval_stories.replay_patched(rows, th, partial(word_pairs, share))
        print(f"| word pairs x {share} | {th} | {cells} |", flush=True)
    for groups, th in [([g], 0.2) for g in SYNONYMS] + [(list(SYNONYMS), th) for th in (0.2, 0.22, 0.25)]:
        cells = eval_stories.replay_patched(rows, th, partial(synonyms, groups))
        print(f"| synonyms: {', '.join(groups)} | {th} | {cells} |", flush=True)


def _root(parent: dict[int, int], x: int) -> int:
    while parent.get(x, x) != x:
        x = parent[x]
    return x


def headline_merges(rows: list[dict]) -> None:
    """After one replay: two stories joined when a report of each, within the window (72 h), has a headline
    of at least ``words`` content words sharing ``share`` (word Jaccard) with the other's."""
    store, ids, _ = eval_stories.replay(rows, None, None, None)
    by_id = {r["id"]: r for r in rows}
    sql = "SELECT story_id FROM items WHERE id = ?"
    story = {rid: store.execute(sql, (n,)).fetchone()[0] for rid, n in ids.items()}
    heads = {r["id"]: dedup.title_words(r["ti"]) for r in rows}
    order = [r["id"] for r in rows if r["id"] in ids]  # rows are in published order
    pos = [r["id"] for r in rows if r["story"]]
    print("\n| headlines joining stories | merges | pairwise P | pairwise R | F1 | B-cubed P | B-cubed R |")
    print("|---|---|---|---|---|---|---|")
    for share in (0.5, 0.6, 0.7, 0.8):
        for words in (4, 6):
            parent: dict[int, int] = {}
            root = partial(_root, parent)
            merges = 0
            for n, a in enumerate(order):
                if len(heads[a]) < words:
                    continue
                for b in order[n + 1 :]:
                    if by_id[b]["t"] - by_id[a]["t"] > 72 * 3600:
                        break
                    both = heads[a] & heads[b]
                    if len(heads[b]) >= words and len(both) >= share * len(heads[a] | heads[b]):
                        ra, rb = root(story[a]), root(story[b])
                        if ra != rb:
                            parent[ra] = rb
                            merges += 1
            r = eval_stories._cluster_scores(pos, by_id, {i: root(s) for i, s in story.items()})
            cells = " | ".join(
                f"{r[k]:.3f}" for k in ("pair_precision", "pair_recall", "pair_f1", "bcubed_precision", "bcubed_recall")
            )
            print(f"| Jaccard >= {share}, {words}+ words | {merges} | {cells} |", flush=True)


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--headlines-only"]
    headlines_only = len(args) < len(sys.argv) - 1
    path = Path(args[0]) if args else eval_stories.DEFAULT
    rows = eval_stories.load_rows(path)
    for r in rows:
        r["t"] = datetime.fromisoformat(r["published"].replace("Z", "+00:00")).timestamp()
        r["ti"], r["de"] = html_to_text(r["title"]), html_to_text(r.get("description") or "")
        if headlines_only:
            r["de"] = ""
    separability(rows)
    if not headlines_only:
        replays(rows)
        headline_merges(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
