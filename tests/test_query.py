"""The watchlist query language: what the README promises, and properties of the parser."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.errors import QuerySyntaxError
from aggregator.query import parse
from aggregator.tag import DEFAULT_FIELDS, CompiledTopic, Doc, match, tag

LISTS = {"vendors": ["Huawei", "ZTE", "Hikvision"], "firms": ["Chinese firms", "SMIC"]}


def hits(query: str, title: str, summary: str = "", feed: str = "", author: str = "") -> bool:
    return match(parse(query, LISTS), Doc.of(title, summary, feed, author)) is not None


@pytest.mark.parametrize(
    ("query", "title", "expected"),
    [
        ("ban", "UK bans Huawei", False),  # whole words: "ban" is not "bans"...
        ("ban*", "UK bans Huawei", True),  # ...unless it is a prefix
        ("ban", "Bank of England raises rates", False),  # and never "bank"
        ("US", "US adds firms to Entity List", True),
        ("US", "U.S. adds firms to Entity List", True),  # U.S. is US
        ("US", "Tell us what you think", False),  # the pronoun is not the country
        ("us", "Tell us what you think", True),  # lower case: any case
        ("beijing", "BEIJING responds", True),
        ("Zurich", "Zürich bank fined", True),  # accents do not matter
        ("zürich", "Zurich bank fined", True),
        ('"entity list"', "Firms added to the Entity List", True),
        ('"entity list"', "List of entities", False),
        ("chipmaking", "Chip-making tools curbed", True),  # hyphenated text also matches joined
        ('"chip making"', "Chip-making tools curbed", True),
        ("Chinese-made", "Chinese-made cameras removed", True),
        ("huawei AND ban*", "Germany bans Huawei", True),
        ("huawei ban*", "Germany bans Huawei", True),  # juxtaposition is AND
        ("huawei AND NOT ban*", "Germany bans Huawei", False),
        ("huawei -ban*", "Germany bans Huawei", False),
        ("zte OR huawei", "ZTE fined", True),
        ("(zte OR huawei) AND fined", "ZTE fined", True),
        ("export NEAR/2 china", "Export of chips to China", False),
        ("export NEAR/4 china", "Export of chips to China", True),
        ("@vendors", "Hikvision cameras ripped out", True),
        ("@firms NEAR/5 sanction*", "US sanctions Chinese firms", True),
        ("china's", "China's new rules", True),
        ("AT&T", "AT&T drops Huawei gear", True),  # "&", "+", "#" split words in the text: so in queries
        ('"S&P 500"', "S&P 500 falls on chip curbs", True),
        ("AT&T", "At T-Mobile, nothing changes", False),
        ("#MeToo", "#MeToo reaches tech", True),
        ("C++", "C++ committee meets", True),
        ("huawei AND NOT ‘fentanyl’", "Huawei and fentanyl", False),  # curly quotes, as a word processor types
        ("‘Huawei’", "Huawei fined", True),
        ("“entity list”", "Firms added to the Entity List", True),
        # an apostrophe inside a word, typed or typographic, on either side
        ("O'Brien", "O’Brien questions TikTok’s chief", True),
        ("China’s", "China's new rules", True),
        ('"l’exportation de puces"', "Paris restreint l'exportation de puces", True),
        # an elided article glued to its word (French, Italian) is the word too
        ("exportation", "Paris restreint l’exportation de puces", True),
        ("Huawei", "La Chine défend l'entreprise d'Huawei", True),
        ('"contrôles exportation"', "Les contrôles à l'exportation", False),  # still a word between them
    ],
)
def test_language(query, title, expected):
    assert hits(query, title) is expected


def test_fields():
    assert hits("title:huawei", "Huawei banned", "nothing")
    assert not hits("title:huawei", "Something banned", "Huawei again")
    assert hits("summary:huawei", "x", "Huawei again")
    assert hits("text:huawei", "x", "Huawei again")
    assert hits('feed:"tech policy"', "x", "y", feed="Tech Policy Daily")
    assert hits("author:reuters", "x", "y", author="Reuters staff")
    assert not hits("export NEAR/3 china", "Export rules", "China responds")  # NEAR stays within one field


@pytest.mark.parametrize(
    ("query", "column", "what"),
    [
        ("(huawei OR zte", 1, "unclosed parenthesis"),
        ("huawei AND", 11, "query ends too early"),
        ('"entity list', 1, "unclosed quote"),
        ("huawei )", 8, "unexpected ')'"),
        ("foo:bar", 1, "unknown field 'foo'"),
        ("a NEAR/0 b", 3, "bad proximity"),
        ("@nope", 1, "unknown list @nope"),
        ("ab*c", 1, "wildcard inside"),
        ("", 1, "empty query"),
        ("huawei NEAR ban", 8, "NEAR without a distance"),  # as other engines write it
        ("huawei && zte", 8, "'&&' is not an operator here"),
        ("huawei || zte", 8, "'||' is not an operator here"),
        ("! huawei", 1, "'!' is not an operator here"),
    ],
)
def test_syntax_errors(query, column, what):
    with pytest.raises(QuerySyntaxError) as e:
        parse(query, LISTS)
    assert str(e.value) == f"column {column}: {what}" or str(e.value).startswith(f"column {column}: {what}")


def test_tags_explain_what_matched_and_score_by_field():
    topic = CompiledTopic("t", parse('"entity list" OR huawei', LISTS), parse("title:review", LISTS), 0.3, 0.5)
    strong = tag(Doc.of("Huawei added to Entity List", "The Entity List grows."), [topic])[0]
    weak = tag(Doc.of("Trade news", "Huawei is mentioned."), [topic])[0]
    assert strong.matched == ('summary:"entity list"', 'title:"entity list"', "title:huawei")
    assert strong.score > weak.score >= 0.3
    assert tag(Doc.of("Huawei phone review", ""), [topic]) == []  # exclude wins
    high = CompiledTopic("t", parse("huawei", LISTS), None, 0.9, 0.5)
    assert tag(Doc.of("x", "Huawei is mentioned."), [high]) == []  # below min_score


_words = st.sampled_from(["huawei", "ZTE", "US", "ban*", "export", "china's", "chip-making", "10:30", "é"])
_atoms = st.one_of(_words, _words.map(lambda w: f'"{w} {w}"'), st.just("@vendors"))


def _queries(depth: int = 3) -> st.SearchStrategy[str]:
    if depth == 0:
        return _atoms
    inner = _queries(depth - 1)
    return st.one_of(
        _atoms,
        st.tuples(inner, st.sampled_from([" AND ", " OR ", " ", " NEAR/3 "]), inner).map("".join),
        inner.map(lambda q: f"NOT {q}"),
        inner.map(lambda q: f"({q})"),
        st.tuples(st.sampled_from(["title:", "summary:", "feed:"]), inner).map(lambda t: t[0] + f"({t[1]})"),
    )


@settings(max_examples=400, deadline=None)
@given(_queries())
def test_round_trip(query):
    node = parse(query, LISTS)
    assert parse(str(node), LISTS) == node


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('abUS() "*:-@/NEARORANDT0123456789\t\n“”')), max_size=40))
def test_parser_raises_only_its_own_error(text):
    try:
        node = parse(text, LISTS)
    except QuerySyntaxError:
        return
    assert parse(str(node), LISTS) == node


def _shipped_topics():
    from conftest import ROOT

    from aggregator.watchlist import load_watchlist

    wl = load_watchlist(ROOT / "config")
    return [CompiledTopic(t.id, t.query, t.exclude, t.min_score, t.example_threshold) for t in wl.topics]


_TOPICS = _shipped_topics()
_VOCAB = sorted(
    {w for t in _TOPICS for w in str(t.query).replace("(", " ").replace(")", " ").replace('"', " ").split()}
    - {"AND", "OR", "NOT"}
    | {"the", "a", "of", "US", "us", "chip-making", "Chinese-owned", "U.S.", "bank", "banned", "Hua", "wei"}
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_VOCAB), max_size=14),
    st.lists(st.sampled_from(_VOCAB), max_size=40),
)
def test_prefilters_never_change_a_result(title_words, summary_words):
    """The shortcuts (word triggers that skip subtrees, OR plans that pick parts by the document's
    words), built into the topics' compiled queries, give exactly what the query compiled without them
    gives, on the shipped topics."""
    doc = Doc.of(" ".join(title_words), " ".join(summary_words).replace("*", ""))
    for t in _TOPICS:
        assert t.matches(doc, DEFAULT_FIELDS) == match(t.query, doc), t.id
        if t.exclude is not None:
            assert t.excluded is not None and t.excluded(doc, DEFAULT_FIELDS) == match(t.exclude, doc), t.id


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(["tiktok", "ban", "bans", "us", "china"]), max_size=60),
    st.lists(st.sampled_from(["tiktok", "ban", "ban*", "china"]), min_size=2, max_size=4),
)
def test_a_phrase_matches_where_its_words_follow_each_other(text, phrase):
    """Where the words of a phrase follow each other in a field, and only there: with words that occur many
    times in the text (the matcher keeps a frequent word's positions as a set) and with a prefix in it."""
    spans = match(parse('"' + " ".join(phrase) + '"'), Doc.of(" ".join(text), ""))

    def fits(word: str, query_word: str) -> bool:
        return word.startswith(query_word[:-1]) if query_word.endswith("*") else word == query_word

    expected = [
        (p, p + len(phrase) - 1)
        for p in range(len(text) - len(phrase) + 1)
        if all(fits(text[p + i], q) for i, q in enumerate(phrase))
    ]
    assert sorted((s[1], s[2]) for s in spans or []) == expected
    assert all(s[0] == "title" for s in spans or [])


def test_a_document_read_before_a_query_with_new_prefixes_is_compiled_still_matches_it():
    """A document's prefix set holds only what the queries compiled so far may ask for: one compiled after
    the set was made (a watchlist reloaded while an item is tagged) gets it made again."""
    doc = Doc.of("Regulators tighten rules on quantumcomputing exports", "")
    first = CompiledTopic("first", parse("regulat* OR tight* OR rul* OR export*"), None, 0.0, 1.0)
    assert first.matches(doc, DEFAULT_FIELDS) is not None and doc.prefixes
    later = CompiledTopic("later", parse("quantumcomp* OR zzz OR yyy OR xxx"), None, 0.0, 1.0)
    assert later.matches(doc, DEFAULT_FIELDS) == [("title", 4, 4, "quantumcomp*")]
