"""aggregator: a self-hosted news-tracking daemon.

Pipeline, one module per stage (see docs/ARCHITECTURE.md):

    due feeds | fetch | parse | normalise | dedup | tag | store      (poll)
    select window | build | render | send | record                   (digest)
"""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/aggregator-news/aggregator"
USER_AGENT = f"aggregator/{__version__} (+{PROJECT_URL})"
