"""The labelled-file replay (`bench/eval_stories.py`, issue #4's measure) on a file of our own: run as a user runs
it, on lines as such files come (no id, no date, no label, a broken line)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

WIRE = (
    "The US Commerce Department added 31 Chinese companies, including chipmaker YMTC, to its Entity List on "
    "Thursday, barring American suppliers from selling to them without a licence, officials said."
)


def test_a_labelled_file_is_replayed_and_scored_whatever_its_lines_lack(tmp_path):
    lines = [
        {
            "id": "a",
            "title": "US adds 31 Chinese firms to Entity List",
            "description": WIRE,
            "story": "entity",
            "label": 1,
            "link": "https://wire.example/us-adds-31",
            "published": "2026-11-26T09:00:00Z",
            "source": "Wire",
        },
        # no id, no source, a date with another offset: the same wire copy at another outlet
        {
            "title": "US blacklists 31 Chinese companies including YMTC",
            "description": WIRE,
            "story": "entity",
            "label": 1,
            "link": "https://paper.example/world/ymtc-blacklist",
            "published": "2026-11-26T11:30:00+02:00",
        },
        "not json",
        # no date: it comes where the file puts it; no label: left out of the tagging score
        {
            "title": "Bakery wins national bread award",
            "description": "A village bakery won the award.",
            "link": "https://local.example/bread",
        },
        {
            "title": "Storm warning for the coast",
            "label": 0,
            "link": "https://weather.example/storm",
            "published": "2026-11-26T12:00:00Z",
        },
    ]
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    p = subprocess.run(
        [sys.executable, "bench/eval_stories.py", str(path), "--json"], capture_output=True, text=True, cwd=ROOT
    )
    assert p.returncode == 0, p.stderr
    assert f"{path}:3: not JSON" in p.stderr and "1 lines without a readable date" in p.stderr
    result = json.loads(p.stdout.strip().splitlines()[-1])
    assert (result["items"], result["labelled"], result["positives"], result["stories"]) == (4, 3, 2, 1)
    assert (result["tp"], result["fp"], result["fn"]) == (2, 0, 0)
    assert (result["pair_precision"], result["pair_recall"], result["wrong_pairs"]) == (1.0, 1.0, 0)
    assert result["near_dup_wrong_merges"] == 0
    # a file with nothing to replay says so
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    p = subprocess.run([sys.executable, "bench/eval_stories.py", str(empty)], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 2 and "no line to replay" in p.stderr
