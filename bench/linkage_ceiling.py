"""What offline clustering could reach on the pipeline's story similarity (issue #4; not `make bench`).

    python bench/linkage_ceiling.py [FILE.jsonl]     (needs numpy and scipy: pip install numpy scipy)

The daemon clusters online: each new item joins a story or starts one, and never sees the items after it.
This script gives the same similarity every advantage an online method lacks: the gold positives alone
(no off-topic items in the way), every pair compared at once, and agglomerative clustering (single,
average, complete and weighted linkage) cut at the threshold that does best. Similarity is the pipeline's:
TF-IDF cosine of headline and lede (dedup.story_terms, document frequencies over the whole file) less the
time penalty (dedup.TIME_DECAY over the story window, 72 h); pairs further apart than the window never
link. Prints, per linkage, the best pairwise recall at precision >= 0.9 and the best F1.
If these stay under the online figures, the limit is the similarity, not the clustering.
"""

from __future__ import annotations

import math
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

import eval_stories  # noqa: E402

from aggregator.dedup import TIME_DECAY, story_terms  # noqa: E402
from aggregator.normalise import html_to_text  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "data" / "topic-dev" / "entries.jsonl"
WINDOW = 72 * 3600.0


def main() -> int:
    try:
        import numpy as np
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import squareform
    except ImportError:
        print("needs numpy and scipy (pip install numpy scipy)", file=sys.stderr)
        return 2
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    rows = eval_stories.load_rows(path)
    terms = [story_terms(html_to_text(r["title"]), html_to_text(r.get("description") or "")) for r in rows]
    df: dict[str, int] = {}
    for t in terms:
        for k in t:
            df[k] = df.get(k, 0) + 1
    pos = [i for i, r in enumerate(rows) if r["story"]]
    vocab: dict[str, int] = {}
    matrix = []
    for i in pos:
        vec = {k: (1 + math.log(f)) * math.log((len(rows) + 2) / (df[k] + 1)) for k, f in terms[i].items()}
        norm = math.sqrt(sum(x * x for x in vec.values())) or 1.0
        matrix.append({vocab.setdefault(k, len(vocab)): x / norm for k, x in vec.items()})
    m = np.zeros((len(pos), len(vocab)))
    for a, vec in enumerate(matrix):
        for k, x in vec.items():
            m[a, k] = x
    ts = np.array([datetime.fromisoformat(rows[i]["published"].replace("Z", "+00:00")).timestamp() for i in pos])
    apart = np.abs(ts[:, None] - ts[None, :]) / WINDOW
    sim = m @ m.T - TIME_DECAY * apart
    sim[apart > 1] = -1.0
    dist = np.clip(1.0 - sim, 0.0, None)
    np.fill_diagonal(dist, 0.0)
    gold = np.array([rows[i]["story"] for i in pos])
    upper = np.triu_indices(len(pos), 1)
    same = (gold[:, None] == gold[None, :])[upper]
    print(f"{len(pos)} gold positives, {int(same.sum())} same-story pairs")
    for method in ("single", "average", "complete", "weighted"):
        tree = linkage(squareform(dist, checks=False), method=method)
        best_r, best_f = (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0)
        for cut in np.arange(0.3, 1.4, 0.005):
            labels = fcluster(tree, cut, criterion="distance")
            joined = (labels[:, None] == labels[None, :])[upper]
            hits = int((joined & same).sum())
            p, r = hits / max(1, int(joined.sum())), hits / int(same.sum())
            f = 2 * p * r / (p + r) if p + r else 0.0
            if p >= 0.9 and r > best_r[2]:
                best_r = (cut, p, r)
            if f > best_f[3]:
                best_f = (cut, p, r, f)
        print(
            f"{method:9} best recall at P >= 0.9: {best_r[2]:.3f} (P {best_r[1]:.3f}, cut {best_r[0]:.3f}); "
            f"best F1 {best_f[3]:.3f} (P {best_f[1]:.3f} R {best_f[2]:.3f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
