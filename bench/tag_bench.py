"""Tagging rate with 20 topics of realistic size, on one core, beside a naive baseline.

    python bench/tag_bench.py [--json]

Topics: the three shipped ones plus 17 on other news themes, each with term lists, phrases and NEAR
clauses like a user would write. Items: the 5,370 real headlines of ../shared/data/topic-dev (or the
synthetic corpus when it is absent). Measured: tokenising + evaluating every topic (`Doc.of` + `tag`),
items per second; the baseline is one case-insensitive regex alternation of each topic's words
(`re.search` per topic), which answers less (no NEAR, no fields, no explanation) and is here only to
give the figure a scale.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from peak import peak_rss_mb  # noqa: E402

from aggregator.tag import CompiledTopic, Doc, clear_caches, tag  # noqa: E402
from aggregator.watchlist import load_watchlist, parse_watchlist  # noqa: E402

THEMES = {
    "climate": (["climate", "emissions", "carbon", "net zero", "warming", "COP*"], ["policy", "target*", "law", "tax"]),
    "elections": (
        ["election*", "vote*", "ballot*", "poll*", "candidate*"],
        ["fraud", "result*", "turnout", "campaign"],
    ),
    "energy": (["oil", "gas", "LNG", "OPEC", "pipeline*", "power grid"], ["price*", "supply", "output", "cut*"]),
    "health": (["vaccine*", "virus", "outbreak*", "hospital*", "WHO"], ["cases", "deaths", "approval", "trial*"]),
    "space": (["NASA", "rocket*", "satellite*", "SpaceX", "orbit*"], ["launch*", "mission*", "landing"]),
    "crime": (["police", "arrest*", "murder*", "shooting*"], ["charged", "suspect*", "court", "trial"]),
    "immigration": (["migrant*", "asylum", "border*", "refugee*"], ["policy", "crossing*", "deport*", "visa*"]),
    "education": (["school*", "university", "universities", "students", "teacher*"], ["funding", "strike*"]),
    "transport": (["rail*", "airline*", "airport*", "train*"], ["strike*", "delay*", "fares", "crash*"]),
    "housing": (["housing", "rent*", "mortgage*", "homeowners"], ["prices", "rates", "crisis", "shortage"]),
    "farming": (["farm*", "crop*", "wheat", "grain*", "fertiliser*"], ["prices", "drought", "export*", "harvest"]),
    "defence": (["military", "army", "navy", "missile*", "NATO"], ["drill*", "attack*", "budget", "deploy*"]),
    "telecom": (["telecom*", "broadband", "5G", "spectrum", "mobile network*"], ["auction*", "outage*", "merger*"]),
    "retail": (["retail*", "shoppers", "supermarket*", "Amazon"], ["sales", "prices", "layoffs", "profit*"]),
    "media": (["newspaper*", "broadcaster*", "streaming", "Netflix"], ["subscribers", "layoffs", "deal", "rights"]),
    "markets": (["stocks", "shares", "Nasdaq", "Dow", "S&P"], ["fall*", "rise*", "rally", "slump*", "record"]),
    "labour": (["union*", "workers", "wage*", "strike*"], ["pay", "deal", "talks", "walkout*"]),
}


def topics() -> list[CompiledTopic]:
    text = (ROOT / "config" / "watchlist.toml").read_text().replace("../seeds/", str(ROOT / "seeds") + "/")
    for name, (subjects, actions) in THEMES.items():
        q = f'((@{name}_s NEAR/10 @{name}_a) OR "{subjects[0]} {actions[0]}" OR (title:@{name}_s AND @{name}_a))'
        text += (
            f'\n[[topic]]\nid = "{name}"\nname = "{name.title()}"\nquery = \'{q}\'\n'
            f"exclude = 'title:(quiz OR crossword OR horoscope)'\n"
        )
    lists = "\n".join(f"{n}_s = {json.dumps(s)}\n{n}_a = {json.dumps(a)}" for n, (s, a) in THEMES.items())
    text = text.replace("[lists]\n", "[lists]\n" + lists + "\n", 1)
    wl = parse_watchlist(text, ROOT / "config" / "watchlist.toml")
    return [CompiledTopic(t.id, t.query, t.exclude, t.min_score, t.example_threshold) for t in wl.topics]


def baseline_regexes() -> list[re.Pattern[str]]:
    out = []
    for subjects, actions in THEMES.values():
        words = [w.rstrip("*") for w in subjects + actions]
        out.append(re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")", re.I))
    wl = load_watchlist(ROOT / "config")
    for terms in (
        [*wl.lists["chinese_tech"], *wl.lists["measure"]],
        ["AI", "artificial intelligence", "regulat"],
        ["data breach", "ransomware", "hack"],
    ):
        out.append(re.compile(r"\b(?:" + "|".join(re.escape(w.rstrip("*")) for w in terms) + r")", re.I))
    return out[:20]


def items() -> list[tuple[str, str, str]]:
    dev = ROOT.parent / "shared" / "data" / "topic-dev" / "entries.jsonl"
    if dev.exists():
        return [(r["title"], r.get("description") or "", r["source"]) for r in map(json.loads, dev.open())]
    import corpus

    return [(t, s, "synthetic") for t, s, _, _ in corpus.items(5000)]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args(argv)
    ts = topics()
    assert len(ts) == 20, len(ts)
    data = items()
    best = float("inf")
    tagged = 0
    for _ in range(a.rounds):
        clear_caches()  # each round starts cold: repeating the same items must not make tokens free
        t0 = time.perf_counter()
        tagged = sum(1 for title, summary, feed in data if tag(Doc.of(title, summary, feed), ts))
        best = min(best, time.perf_counter() - t0)
    regexes = baseline_regexes()
    base = float("inf")
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        for title, summary, _ in data:
            text = f"{title}\n{summary}"
            for r in regexes:
                r.search(text)
        base = min(base, time.perf_counter() - t0)
    result = {
        "topics": len(ts),
        "items": len(data),
        "headlines": "synthetic" if data and data[0][2] == "synthetic" else "real",
        "items_tagged": tagged,
        "items_per_second": round(len(data) / best),
        "baseline_regex_items_per_second": round(len(data) / base),
    }
    if a.json:
        result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result) if a.json else "\n".join(f"{k:34} {v}" for k, v in result.items()))
    return result


if __name__ == "__main__":
    main()
