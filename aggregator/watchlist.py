"""The watchlist file (`watchlist.toml`): load and validate it, and edit it keeping its comments.

    [lists]                         reusable term lists, referred to as @name in queries
    chinese_tech = ["Huawei", "ZTE", "SMIC"]

    [[topic]]
    id = "us-china-tech"            a slug: lower-case letters, digits and dashes
    name = "US–China tech restrictions"
    description = "..."             optional
    query = '''...'''               see `aggregator.query`
    keywords = ["a", "b c"]         optional: any of these words or phrases (ORed with the query)
    exclude = '''...'''             optional
    examples = ["../seeds/x.txt"]   optional: seed articles that show what the topic is about
    min_score = 0.3                 optional, 0..1
    example_threshold = 0.5         optional, 0..1: tag on similarity to an example alone

Errors name the file, the line and column, and show a caret under the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions

from aggregator.config import (
    display_path,
    edits_config,
    expand_home,
    read_config_text,
    read_toml,
    replace_config_file,
    tables_to_append,
    toml_error,
)
from aggregator.errors import ConfigError, QuerySyntaxError, spelling_hint
from aggregator.query import Node, caret, finds_anything, lowercase_operators, parse, short_prefixes

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_TOPIC_KEYS = {
    "id",
    "name",
    "description",
    "query",
    "keywords",
    "exclude",
    "examples",
    "min_score",
    "example_threshold",
}


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    query_text: str
    query: Node
    exclude_text: str | None = None
    exclude: Node | None = None
    description: str | None = None
    examples: tuple[Path, ...] = ()
    min_score: float = 0.3
    example_threshold: float = 0.5


@dataclass(frozen=True)
class Watchlist:
    topics: tuple[Topic, ...]
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    path: Path | None = None
    warnings: tuple[str, ...] = ()  # problems that do not stop the watchlist (a missing example file)

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


def watchlist_path(config_dir: Path) -> Path:
    return config_dir / "watchlist.toml"


def _editable(path: Path) -> tomlkit.TOMLDocument:
    """The watchlist as a tomlkit document (comments kept), for an edit; a broken file is a one-line error."""
    text = read_config_text(path) or ""
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as e:
        raise ConfigError(
            f"{display_path(path)}: invalid TOML: {e}", hint="fix the file (`aggregator watchlist validate`)"
        ) from e


def load_watchlist(config_dir: Path) -> Watchlist:
    path = watchlist_path(config_dir)
    return parse_watchlist(read_config_text(path), path)


def parse_watchlist(text: str | None, path: Path) -> Watchlist:
    """Validate a watchlist's text. A missing file raises; an empty one is a watchlist with no topic."""
    where = display_path(path)
    if text is None:
        read_toml(path)  # raises the usual "file not found" error
    import tomllib

    try:
        data = tomllib.loads(text or "")
    except tomllib.TOMLDecodeError as e:
        raise toml_error(where, text or "", e) from e
    extra = set(data) - {"topic", "lists"}
    if extra:
        raise ConfigError(f"{where}: {sorted(extra)[0]}: unknown key", hint="a watchlist has [lists] and [[topic]]")
    lists_raw = data.get("lists", {})
    if not isinstance(lists_raw, dict):
        raise ConfigError(f"{where}: lists: expected a table of term lists")
    lists: dict[str, tuple[str, ...]] = {}
    for name, terms in lists_raw.items():
        if not isinstance(terms, list) or not terms or not all(isinstance(t, str) and t.strip() for t in terms):
            raise ConfigError(f'{where}: lists.{name}: expected a non-empty list of strings like ["Huawei", "ZTE"]')
        lists[name] = tuple(terms)
    raw_topics = data.get("topic", [])
    if not isinstance(raw_topics, list):
        raise ConfigError(f"{where}: topic: expected [[topic]] tables")
    topics: list[Topic] = []
    seen: set[str] = set()
    warnings: list[str] = []
    for n, raw in enumerate(raw_topics, start=1):
        topics.append(_topic(raw, n, where, text or "", path.parent, lists, seen, warnings))
    return Watchlist(topics=tuple(topics), lists=lists, path=path, warnings=tuple(warnings))


def _topic(
    raw: dict[str, Any],
    n: int,
    where: str,
    text: str,
    base: Path,
    lists: dict[str, tuple[str, ...]],
    seen: set[str],
    warnings: list[str],
) -> Topic:
    at = f"{where}: topic #{n}"
    tid = raw.get("id")
    if not isinstance(tid, str) or not _SLUG.match(tid):
        raise ConfigError(f'{at}: id: expected a slug like "us-china-tech", got {tid!r}')
    if tid in seen:
        raise ConfigError(f"{at}: id: {tid!r} is used by two topics", hint="give each topic its own id")
    seen.add(tid)
    at = f"{where}: topic {tid}"
    extra = set(raw) - _TOPIC_KEYS
    if extra:
        key = sorted(extra)[0]
        hint = spelling_hint(key, sorted(_TOPIC_KEYS), "keys: " + ", ".join(sorted(_TOPIC_KEYS)))
        raise ConfigError(f"{at}: {key}: unknown key", hint=hint)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{at}: name: expected a non-empty string, got {name!r}")
    query_text = _query_text(raw, name.strip(), at, warnings)
    query = _parse_query(query_text, "query", tid, where, text, lists)
    for term in dict.fromkeys(map(str, short_prefixes(query))):
        stem = term[:-1]
        warnings.append(
            f"{at}: query: {term}: a prefix this short matches unrelated words too (every word that starts with "
            f"{stem!r}); list the forms you mean, e.g. ({stem} OR {stem}s)"
        )
    if not finds_anything(query) and raw.get("min_score") != 0:  # (at 0: every item without those words)
        warnings.append(
            f"{at}: query: it names only what to leave out (NOT ...), so it tags nothing: name what to find, as in "
            '"huawei AND NOT phone", or put what to leave out in `exclude`'
        )
    exclude_text = raw.get("exclude")
    exclude = None
    if exclude_text is not None:
        if not isinstance(exclude_text, str):
            raise ConfigError(f"{at}: exclude: expected a query string, got {exclude_text!r}")
        exclude = _parse_query(exclude_text, "exclude", tid, where, text, lists) if exclude_text.strip() else None
    for key, q in (("query", query_text), ("exclude", exclude_text if exclude is not None else None)):
        for word, col in lowercase_operators(q) if q else ():
            warnings.append(
                f"{at}: {key}: {word!r} (column {col + 1}) is a word to find, not an operator: operators are "
                f'written in capitals ({word.upper()}); to find the word, put it in a phrase ("rock {word} roll")'
            )
    examples_raw = raw.get("examples", [])
    if not isinstance(examples_raw, list) or not all(isinstance(e, str) for e in examples_raw):
        raise ConfigError(f"{at}: examples: expected a list of file paths")
    examples = []
    for e in examples_raw:
        p = expand_home(e)
        p = p if p.is_absolute() else (base / p).resolve()
        if not p.is_file():  # the topic still works on its query: warn, do not refuse the watchlist
            warnings.append(f"{at}: examples: {e}: file not found (paths are relative to the watchlist file)")
            continue
        examples.append(p)
    return Topic(
        id=tid,
        name=name.strip(),
        query_text=query_text,
        query=query,
        exclude_text=exclude_text,
        exclude=exclude,
        description=raw.get("description"),
        examples=tuple(examples),
        min_score=_unit(raw, "min_score", 0.3, at),
        example_threshold=_unit(raw, "example_threshold", 0.5, at),
    )


def _query_text(raw: dict[str, Any], name: str, at: str, warnings: list[str]) -> str:
    """The topic's query: `query`, ORed with any of its `keywords`; with neither, the words of its name
    (a topic written as just an id and a name still tags what names it, and says so)."""
    query = raw.get("query")
    if query is not None and (not isinstance(query, str) or not query.strip()):
        raise ConfigError(
            f"{at}: query: expected a query string, got {query!r}",
            hint="for example: query = '\"export controls\" AND (China OR Chinese)'",
        )
    keywords = raw.get("keywords")
    if keywords is not None:
        if isinstance(keywords, str):  # keywords = "tariff, trade war": one string, comma-separated
            keywords = [k for k in keywords.split(",") if k.strip()]
        if not (isinstance(keywords, list) and keywords and all(isinstance(k, str) and k.strip() for k in keywords)):
            raise ConfigError(f'{at}: keywords: expected a non-empty list of strings like ["tariff*", "trade war"]')
        any_of = " OR ".join(_quoted(k) for k in keywords)
        query = f"({query}) OR {any_of}" if query else any_of
    if query:
        return query
    words = re.findall(r"\w[\w'’.*]*", name)
    if not words:
        raise ConfigError(f"{at}: query: missing", hint="for example: query = '\"export controls\" AND China'")
    warnings.append(f"{at}: no query or keywords: it tags items that have every word of its name")
    return " ".join(_quoted(w) for w in words)


def _quoted(term: str) -> str:
    """A user's word or phrase as a query phrase: operators and punctuation in it are plain text."""
    return '"' + " ".join(term.replace('"', " ").split()) + '"'


def _unit(raw: dict[str, Any], key: str, default: float, at: str) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"{at}: {key}: expected a number from 0 to 1, got {value!r}")
    return float(value)


def _parse_query(q: str, key: str, tid: str, where: str, text: str, lists: dict[str, tuple[str, ...]]) -> Node:
    try:
        return parse(q, lists)
    except QuerySyntaxError as e:
        col = e.column
        line_in_q = q.count("\n", 0, col)
        q_line = q.split("\n")[line_in_q]
        col_in_line = col - (q.rfind("\n", 0, col) + 1)
        file_line, file_col = _locate(text, tid, q_line, col_in_line)
        loc = f"{where}:{file_line}:{file_col + 1}" if file_line else where
        raise QuerySyntaxError(
            f"{loc}: topic {tid}: {key}: {e.what}", detail=caret(q_line, col_in_line), hint=e.hint
        ) from None


def _locate(text: str, tid: str, q_line: str, col: int) -> tuple[int, int]:
    """Find where a line of a query sits in the file: the first occurrence after the topic's id."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if re.match(rf"\s*id\s*=\s*[\"']{re.escape(tid)}[\"']", line)), 0)
    for i in range(start, len(lines)):
        pos = lines[i].find(q_line) if q_line.strip() else -1
        if pos != -1:
            return i + 1, pos + col
    return 0, col


# --- editing (tomlkit keeps comments and layout) -------------------------------------------


@edits_config
def add_topic(
    config_dir: Path,
    topic_id: str,
    name: str,
    query: str | None,
    exclude: str | None = None,
    description: str | None = None,
    min_score: float | None = None,
    keywords: list[str] | None = None,
) -> None:
    """Append a [[topic]] after validating the result. Comments and layout stay as they were."""
    path = watchlist_path(config_dir)
    doc = _editable(path)
    topics = tables_to_append(doc, "topic")
    table = tomlkit.table()
    table.add("id", topic_id)
    table.add("name", name)
    if description:
        table.add("description", description)
    if query:
        table.add("query", query)
    if keywords:
        table.add("keywords", keywords)
    if exclude:
        table.add("exclude", exclude)
    if min_score is not None:
        table.add("min_score", min_score)
    topics.append(table)
    _write_validated(path, tomlkit.dumps(doc))


@edits_config
def remove_topic(config_dir: Path, topic_id: str) -> None:
    path = watchlist_path(config_dir)
    doc = _editable(path)
    topics = doc.get("topic", [])
    keep = [t for t in topics if t.get("id") != topic_id]
    if len(keep) == len(topics):
        raise ConfigError(
            f"{display_path(path)}: no topic with id {topic_id!r}", hint="`aggregator watchlist list` shows the ids"
        )
    for i in range(len(topics) - 1, -1, -1):
        if topics[i].get("id") == topic_id:
            del topics[i]
    _write_validated(path, tomlkit.dumps(doc))


def _write_validated(path: Path, new_text: str) -> None:
    """Validate first, then replace the file atomically: a bad edit never reaches the disk."""
    parse_watchlist(new_text, path)
    replace_config_file(path, new_text)
