"""A deterministic synthetic news corpus with a realistic, Zipf-distributed vocabulary: titles of 7-13
words and 40-90 word summaries, about 150 stories a day of 1-8 reports each (reworded copies), spread
over time. Used by the dedup and tagging benchmarks (the topic-dev set is too small for 100k items)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

FUNCTION = "the a of to in and on for with as by at from after over amid says new its is are".split()
TOPICAL = (
    "China Chinese US export controls chips Huawei TikTok ban sanctions Commerce Entity List Nvidia "
    "semiconductor rules Beijing Washington security probe investment curbs gallium Micron"
).split()


def vocabulary(n: int, rng: random.Random) -> list[str]:
    syll = ["ka", "lo", "mi", "ren", "tor", "sa", "vel", "qui", "dan", "por", "est", "ul", "bri", "gon", "fa"]
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(syll) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def items(
    n: int, *, seed: int = 7, start: datetime = datetime(2026, 8, 1, tzinfo=UTC), per_day: int = 1000
) -> Iterator[tuple[str, str, datetime, str]]:
    """Yields (title, summary, published, story key)."""
    rng = random.Random(seed)
    vocab = vocabulary(20000, rng)
    weights = [1 / (i + 1) for i in range(len(vocab))]
    made = 0
    story = 0
    while made < n:
        story += 1
        core = rng.choices(vocab, weights, k=10) + rng.sample(TOPICAL, 1 if rng.random() < 0.1 else 0)
        body = rng.choices(vocab, weights, k=70)
        when = start + timedelta(days=made / per_day)
        for _ in range(min(rng.choice([1, 1, 1, 2, 2, 3, 5, 8]), n - made)):
            title_words = rng.sample(core, rng.randint(6, min(10, len(core)))) + rng.sample(FUNCTION, 3)
            rng.shuffle(title_words)
            text = rng.sample(body, rng.randint(40, 70)) + rng.choices(vocab, weights, k=15)
            yield (
                " ".join(title_words).capitalize(),
                " ".join(text) + ".",
                when + timedelta(minutes=rng.randint(0, 600)),
                f"s{story}",
            )
            made += 1
