"""What the bench scripts share: a throw-away config folder with the shipped watchlist."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from aggregator.models import Item
from aggregator.normalise import canonical_url, content_hash

ROOT = Path(__file__).resolve().parent.parent


def scratch_dir(prefix: str = "aggregator-bench-") -> Path:
    """A temporary folder removed when the process exits (bench databases reach hundreds of MB)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    return tmp


def temp_config(settings: str = "", data_dir: Path | None = None) -> Path:
    """A config folder in a new temp dir: aggregator.toml (data_dir = the temp dir unless given, plus
    ``settings``) and the shipped watchlist.toml with its seed example path made absolute."""
    tmp = scratch_dir()
    cfg = tmp / "config"
    cfg.mkdir()
    (cfg / "aggregator.toml").write_text(f'data_dir = "{data_dir or tmp}"\n' + settings)
    (cfg / "watchlist.toml").write_text(
        (ROOT / "config" / "watchlist.toml").read_text().replace("../seeds/", str(ROOT / "seeds") + "/")
    )
    return cfg


def make_item(feed: str, guid: str, title: str, summary: str, when: datetime, url: str | None = None) -> Item:
    """An Item as a poll would build it, from plain fields (the bench corpora have no feed XML)."""
    return Item(
        feed_url=f"https://{feed}/feed",
        guid=guid,
        url=url,
        canonical_url=canonical_url(url),
        title=title or "(untitled)",
        summary=summary,
        summary_html=summary,
        author=None,
        published=when,
        fetched_at=when,
        content_hash=content_hash(title, summary),
        feed_title=feed,
    )
