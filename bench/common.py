"""What the bench scripts share: a throw-away config folder with the shipped watchlist."""

from __future__ import annotations

import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def temp_config(settings: str = "", data_dir: Path | None = None) -> Path:
    """A config folder in a new temp dir: aggregator.toml (data_dir = the temp dir unless given, plus
    ``settings``) and the shipped watchlist.toml with its seed example path made absolute."""
    tmp = Path(tempfile.mkdtemp(prefix="aggregator-bench-"))
    cfg = tmp / "config"
    cfg.mkdir()
    (cfg / "aggregator.toml").write_text(f'data_dir = "{data_dir or tmp}"\n' + settings)
    (cfg / "watchlist.toml").write_text(
        (ROOT / "config" / "watchlist.toml").read_text().replace("../seeds/", str(ROOT / "seeds") + "/")
    )
    return cfg
