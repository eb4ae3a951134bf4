"""The watchlist query language: parse a query string into a tree.

    query   := or
    or      := and ("OR" and)*
    and     := near (["AND"] near)*            juxtaposition means AND
    near    := unary ("NEAR/" N unary)*        both sides within N words, in one field
    unary   := ("NOT" | "-") unary | primary
    primary := "(" query ")" | FIELD ":" primary | "\"" phrase "\"" | WORD["*"] | "@" LIST

FIELD is one of title, summary, text (title + summary), feed (its title), tag (its tags in feeds.toml),
author. Operators are written in capitals (lower-case "and"/"or"/"not" are ordinary words). A WORD
ending in "*" is a prefix. A WORD written all in capitals with 2-5 letters ("US", "UK", "EU") matches
only words written in capitals in the text (with dots removed, so "U.S." is "US"): the country, not the
pronoun. Matching is case- and accent-insensitive otherwise, on whole words ("ban" never matches "bank");
Chinese and Japanese, written without spaces, character by character ("华为" is the phrase "华 为").

`parse` raises QuerySyntaxError with the column; `watchlist` adds the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aggregator.errors import QuerySyntaxError
from aggregator.normalise import cjk_split, fold, has_cjk

FIELDS = ("title", "summary", "text", "feed", "tag", "author")
_WORD_CHARS = re.compile(r"[^\s()\"“”]+")


@dataclass(frozen=True)
class Term:
    text: str  # folded; for a prefix, without the "*"
    prefix: bool = False
    upper: bool = False  # matches only capitalised words in the text

    def __str__(self) -> str:
        text = (self.text.upper() if self.upper else self.text) + ("*" if self.prefix else "")
        return (
            text
            if _BARE.fullmatch(text) and text not in _RESERVED and not text.startswith("NEAR/")
            else '"' + text + '"'
        )


_BARE = re.compile(r"[^\s()\"“”@\-:][^\s()\"“”:]*")
_RESERVED = {"AND", "OR", "NOT"}


@dataclass(frozen=True)
class Phrase:
    words: tuple[Term, ...]

    def __str__(self) -> str:
        out = ""
        for w in (str(w).strip('"') for w in self.words):
            # Chinese and Japanese are written without spaces: "实体清单", not "实 体 清 单"
            out += w if not out or (has_cjk(out[-1]) and has_cjk(w[:1])) else " " + w
        return f'"{out}"'


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]

    def __str__(self) -> str:
        return "(" + " AND ".join(str(p) for p in self.parts) + ")"


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]

    def __str__(self) -> str:
        return "(" + " OR ".join(str(p) for p in self.parts) + ")"


@dataclass(frozen=True)
class Not:
    part: Node

    def __str__(self) -> str:
        return f"NOT {self.part}"


@dataclass(frozen=True)
class Near:
    left: Node
    right: Node
    distance: int

    def __str__(self) -> str:
        return f"({self.left} NEAR/{self.distance} {self.right})"


@dataclass(frozen=True)
class Field:
    name: str
    part: Node

    def __str__(self) -> str:
        inner = str(self.part)
        return (
            f"{self.name}:{inner}"
            if isinstance(self.part, Term | Phrase | And | Or | Near)
            else f"{self.name}:({inner})"
        )


Node = Term | Phrase | And | Or | Not | Near | Field


@dataclass(frozen=True)
class _Tok:
    kind: str  # word, phrase, lparen, rparen, and, or, not, near, field, list, end
    value: str
    col: int  # 0-based offset in the query


_OTHER_SYNTAX = {"&&": "AND", "&": "AND", "||": "OR", "|": "OR", "!": "NOT"}


def _tokens(q: str) -> list[_Tok]:
    out: list[_Tok] = []
    i = 0
    while i < len(q):
        c = q[i]
        if c.isspace():
            i += 1
        elif c == "(":
            out.append(_Tok("lparen", c, i))
            i += 1
        elif c == ")":
            out.append(_Tok("rparen", c, i))
            i += 1
        elif c in '"“”':
            end = min((j for j in (q.find('"', i + 1), q.find("”", i + 1), q.find("“", i + 1)) if j != -1), default=-1)
            if end == -1:
                raise _error(q, i, "unclosed quote", 'close the phrase with a second "')
            out.append(_Tok("phrase", q[i + 1 : end], i))
            i = end + 1
        elif c == "-" and i + 1 < len(q) and not q[i + 1].isspace() and (not out or out[-1].kind != "field"):
            out.append(_Tok("not", "-", i))
            i += 1
        else:
            m = _WORD_CHARS.match(q, i)
            assert m is not None
            word = m.group()
            field, colon, rest = word.partition(":")
            if colon and field.lower() in FIELDS:
                out.append(_Tok("field", field.lower(), i))
                i += len(field) + 1
                continue
            if colon and field.isalpha():
                raise _error(q, i, f"unknown field {field!r}", "fields are: " + ", ".join(FIELDS))
            if word in ("AND", "OR", "NOT"):
                out.append(_Tok(word.lower(), word, i))
            elif word in _OTHER_SYNTAX:  # another search engine's operators
                raise _error(q, i, f"{word!r} is not an operator here", f"write {_OTHER_SYNTAX[word]}")
            elif word == "NEAR":
                raise _error(q, i, "NEAR without a distance", "write NEAR/N, N the most words apart: NEAR/5")
            elif word.startswith("NEAR/"):
                if not word[5:].isdigit() or not 0 < int(word[5:]) <= 100:
                    raise _error(q, i, f"bad proximity {word!r}", "write NEAR/N with N from 1 to 100")
                out.append(_Tok("near", word[5:], i))
            elif word.startswith("@"):
                out.append(_Tok("list", word[1:], i))
            else:
                out.append(_Tok("word", word, i))
            i = m.end()
    out.append(_Tok("end", "", len(q)))
    return out


def _error(q: str, col: int, what: str, hint: str | None = None) -> QuerySyntaxError:
    return QuerySyntaxError(f"column {col + 1}: {what}", hint=hint, column=col, what=what)


def make_term(word: str, q: str = "", col: int = 0) -> Term:
    prefix = word.endswith("*")
    core = word.rstrip("*").replace(".", "") if word.rstrip("*") not in (".",) else word
    core = core.strip("'‘’‚‛,;!?:/-")  # edge punctuation is not part of a word (the text tokenizer agrees)
    core = core.replace("’", "'").replace("ʼ", "'")  # as tag.APOSTROPHES: however the query writes it
    if core.endswith("'s"):
        core = core[:-2]
    if not any(c.isalnum() for c in core):
        raise _error(q, col, f"empty term {word!r}", "a term needs a letter or a digit")
    if "*" in core:
        raise _error(q, col, f"wildcard inside {word!r}", "only a trailing * (prefix) is supported")
    letters = [c for c in core if c.isalpha()]
    upper = 2 <= len(letters) <= 5 and core.isupper()
    return Term(text=fold(core), prefix=prefix, upper=upper)


# Characters the text's tokenizer splits words at: "AT&T" is the words "AT" "T" there, "S&P 500" is
# "S" "P" "500", "#MeToo" is "MeToo"; a query term written with them is the phrase of those words.
_INNER_SEP = re.compile(r"[&+#@|~^=<>!?,;:%$€£\\\[\]{}]+")


def make_phrase(text: str, q: str = "", col: int = 0) -> Node:
    parts = [p for p in re.split(r"[\s\-/]+", text.strip()) for p in _INNER_SEP.split(p) if p.strip("'‘’,;!?.")]
    # 华为: the phrase "华 为" (characters are the words of Chinese and Japanese text); as any run of
    # characters matches inside a longer one, a * after it adds nothing
    parts = [c for p in parts for c in ([c for c in cjk_split(p, 1) if c != "*"] if has_cjk(p) else [p])]
    if not parts:
        raise _error(q, col, "empty phrase")
    terms = tuple(make_term(p, q, col) for p in parts)
    return terms[0] if len(terms) == 1 else Phrase(terms)


class _Parser:
    def __init__(self, q: str, lists: Mapping[str, Sequence[str]]) -> None:
        self.q = q
        self.toks = _tokens(q)
        self.i = 0
        self.lists = lists

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise _error(self.q, 0, "empty query")
        node = self.or_()
        tok = self.peek()
        if tok.kind != "end":
            raise _error(
                self.q, tok.col, f"unexpected {tok.value!r}", "check the parentheses" if tok.kind == "rparen" else None
            )
        return node

    def or_(self) -> Node:
        parts = [self.and_()]
        while self.peek().kind == "or":
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_(self) -> Node:
        parts = [self.near()]
        while self.peek().kind not in ("or", "rparen", "end"):
            if self.peek().kind == "and":
                self.take()
            parts.append(self.near())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def near(self) -> Node:
        node = self.unary()
        while self.peek().kind == "near":
            distance = int(self.take().value)
            node = Near(node, self.unary(), distance)
        return node

    def unary(self) -> Node:
        if self.peek().kind == "not":
            self.take()
            return Not(self.unary())
        return self.primary()

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind == "lparen":
            node = self.or_()
            close = self.take()
            if close.kind != "rparen":
                raise _error(self.q, tok.col, "unclosed parenthesis", "add a )")
            return node
        if tok.kind == "field":
            if self.peek().kind in ("end", "rparen", "or", "and", "near"):
                raise _error(self.q, tok.col, f"nothing after {tok.value}:")
            return Field(tok.value, self.primary())
        if tok.kind == "phrase":
            return make_phrase(tok.value, self.q, tok.col)
        if tok.kind == "word":
            # "chip-making" is two words in the text, so it is a phrase here ("chipmaking" matches too)
            word = tok.value
            if "-" in word.strip("-") or "/" in word.strip("/") or has_cjk(word) or _INNER_SEP.search(word[:-1]):
                return make_phrase(tok.value, self.q, tok.col)
            return make_term(tok.value, self.q, tok.col)
        if tok.kind == "list":
            if tok.value not in self.lists:
                raise _error(
                    self.q,
                    tok.col,
                    f"unknown list @{tok.value}",
                    "define it under [lists] in the watchlist"
                    + (f" (known: {', '.join('@' + k for k in self.lists)})" if self.lists else ""),
                )
            return Or(tuple(make_phrase(entry, self.q, tok.col) for entry in self.lists[tok.value]))
        if tok.kind == "end":
            raise _error(self.q, tok.col, "query ends too early", "an operator is missing its right side")
        raise _error(self.q, tok.col, f"unexpected {tok.value!r}")


def parse(q: str, lists: Mapping[str, Sequence[str]] | None = None) -> Node:
    """Parse a query. Raises QuerySyntaxError (its ``column`` is 0-based) and nothing else."""
    try:
        return _Parser(q, lists or {}).parse()
    except RecursionError:
        raise _error(q, 0, "query nested too deeply") from None


SHORT_PREFIX = 3  # a prefix this short takes in other words: ban* is bank, banner, bandwidth


def short_prefixes(node: Node) -> list[Term]:
    """The prefix terms of a query that are short enough to match unrelated words. A prefix inside a phrase
    ("export ban*") or one that matches only capitals ("GPU*") has its context, and is not counted."""
    match node:
        case Term(text=text, prefix=True, upper=False) if len(text) <= SHORT_PREFIX and not has_cjk(text):
            return [node]
        case And(parts=parts) | Or(parts=parts):
            return [t for p in parts for t in short_prefixes(p)]
        case Not(part=part) | Field(part=part):
            return short_prefixes(part)
        case Near(left=left, right=right):
            return short_prefixes(left) + short_prefixes(right)
    return []


def finds_anything(node: Node) -> bool:
    """Whether a query names something to find, not only what to leave out ("NOT phone", "NOT (a OR b)"): an
    item is tagged on the words it matches, and one matched by NOT alone has none."""
    match node:
        case Not():
            return False
        case And(parts=parts) | Or(parts=parts):
            return any(finds_anything(p) for p in parts)
        case Field(part=part):
            return finds_anything(part)
    return True


def lowercase_operators(q: str) -> list[tuple[str, int]]:
    """The words "and", "or", "not" written in lower case outside a phrase (each with its 0-based column):
    terms, not operators, which is rarely what was meant ("huawei or zte" asks for the word "or" too). Call on
    a query that parses."""
    return [(t.value, t.col) for t in _tokens(q) if t.kind == "word" and t.value.upper() in ("AND", "OR", "NOT")]


def caret(line: str, col: int) -> str:
    """The line with a caret under column ``col``."""
    return f"    {line}\n    {' ' * col}^"
