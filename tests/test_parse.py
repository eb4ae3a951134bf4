"""Every file in fixtures/parse/ is a feed with its expected result beside it (NAME.expected.json).
Adding a case is adding two files."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from conftest import FIXTURES

from aggregator.errors import ParseError
from aggregator.normalise import normalise_entry
from aggregator.parse import parse_feed

CASES = sorted(p for p in (FIXTURES / "parse").iterdir() if not p.name.endswith(".expected.json"))


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_fixture(path):
    expected = json.loads(path.with_name(path.name + ".expected.json").read_text())
    body = path.read_bytes()
    if "error" in expected:
        with pytest.raises(ParseError) as e:
            parse_feed(body, path.as_uri())
        assert expected["error"] in str(e.value)
        return
    feed = parse_feed(body, path.as_uri())
    assert len(feed.entries) == expected["entries"]
    assert feed.skipped == expected.get("skipped", 0)
    assert (feed.warning is not None) == expected.get("warning", False)
    if "ttl" in expected:
        assert feed.ttl == expected["ttl"]
    first = normalise_entry(feed.entries[0], "https://example.org/feed", datetime.now(UTC), feed.title)
    for key, attr in (
        ("first_title", "title"),
        ("first_summary", "summary"),
        ("first_guid", "guid"),
        ("first_url", "url"),
        ("first_author", "author"),
    ):
        if key in expected:
            value = getattr(first, attr)
            if key == "first_title" and expected[key] == "":
                assert value.startswith("Untitled post about gallium")  # no title: the start of the text
            else:
                assert value == expected[key], key
    if "first_published" in expected:
        assert first.published.isoformat() == expected["first_published"]
    assert "<script" not in first.summary_html and "onclick" not in first.summary_html
