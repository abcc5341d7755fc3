"""
What the search index stores, and how a learner's query is read.

Pure functions shared by both search backends:

* ``build_entry(tutorial)`` turns a saved lesson's stored ``body_html`` (never its
  Markdown) into plain text split at each h2/h3, so a hit can link to its heading.
* ``parse_query(text)`` turns whatever was typed into a tuple of terms. Only the
  words survive: quotes make a phrase and a leading ``-`` excludes a term, the way
  web search boxes behave; every other character is dropped, so no user text ever
  reaches FTS5's MATCH syntax or PostgreSQL's tsquery parser.
* ``Highlighted`` is a snippet with its matched words; its ``html`` escapes the
  stored text first and only then adds ``<mark>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

MAX_SECTIONS = 1000  # per lesson; the SQLite backend packs the position into a rowid
MAX_TERMS = 8  # words a query is cut to: enough for any real query, bounded work
MAX_WORD_LENGTH = 40  # characters; longer "words" are noise (or an attack)
MATCH_START, MATCH_END = "\x02", "\x03"  # around matched words; stripped from stored text
# PostgreSQL's parser reads "<b>" in text as an HTML tag and drops it; its backend
# hands it this private-use character in place of "<". Stripped from stored text.
TAG_GUARD = "\ue000"

# Words: letters, digits and underscores, with at least one letter or digit, so an
# identifier such as post_save is one word (one token in SQLite's index; PostgreSQL
# reads it as the phrase post <-> save). Everything else separates words.
_WORD_RE = re.compile(r"\w*[^\W_]\w*")
_CHUNK_RE = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_CONTROL_RE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f{TAG_GUARD}]")
_SPACE_RE = re.compile(r"\s+")
_MARKER_RE = re.compile(f"({MATCH_START}|{MATCH_END})")

# PostgreSQL's "english" stop words. Dropping them from queries on SQLite too keeps
# the two backends answering alike ("profile when user is created").
_STOP_WORDS = (
    "a about above after again against all am an and any are as at be because been "
    "before being below between both but by can did do does doing don down during each "
    "few for from further had has have having he her here hers herself him himself his "
    "how i if in into is it its itself just me more most my myself no nor not now of off "
    "on once only or other our ours ourselves out over own s same she should so some such "
    "t than that the their theirs them themselves then there these they this those "
    "through to too under until up very was we were what when where which while who whom "
    "why will with you your yours yourself yourselves"
)
STOP_WORDS = frozenset(_STOP_WORDS.split())


def words(text: str) -> list[str]:
    """The lower-cased words of ``text``, as the SQLite tokenizer splits them."""
    return [w[:MAX_WORD_LENGTH] for w in _WORD_RE.findall(text.casefold())]


def normalize(text: str) -> str:
    """``text`` reduced to its words, for comparing titles and counting misses."""
    return " ".join(words(text))


def clean_text(text: str) -> str:
    """Drop control characters (the match markers among them), TAG_GUARD, and
    collapse spaces."""
    return _SPACE_RE.sub(" ", _CONTROL_RE.sub(" ", text)).strip()


# Entries ------------------------------------------------------------------------


@dataclass(frozen=True)
class EntrySection:
    """One part of a lesson: the text before its first heading, or one h2/h3."""

    position: int
    anchor: str  # the heading's id in the lesson page ("" for the introduction)
    heading: str
    text: str


@dataclass(frozen=True)
class Entry:
    """Everything the index stores for one published lesson.

    ``headings``, ``body`` and ``anchors`` have one line per section, in order (the
    introduction's heading and anchor are empty lines), so line ``n`` of a
    highlighted body is section ``n``'s text.
    """

    tutorial_id: int
    title: str
    title_key: str  # normalize(title): an exact title match ranks first
    headings: str
    body: str
    anchors: str
    sections: tuple[EntrySection, ...] = field(default_factory=tuple)


# Classes of rendered elements that are page furniture, not lesson text.
_SKIP_CLASSES = {"headerlink", "runnable-label", "runnable-verified"}
_BLOCK_TAGS = {
    "blockquote", "br", "dd", "div", "dt", "figcaption", "h4", "h5", "h6", "hr", "li",
    "p", "pre", "td", "th", "tr",
}  # fmt: skip


class _SectionSplitter(HTMLParser):
    """Collect the text of sanitized lesson HTML, starting a section at each h2/h3."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[dict[str, Any]] = [{"anchor": "", "heading": [], "text": []}]
        self.in_heading = False
        self.skip_depth = 0  # > 0 inside an element whose text is not indexed
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"br", "hr", "img"}:
            self._part().append(" ")
            return
        self.stack.append(tag)
        classes = set((dict(attrs).get("class") or "").split())
        if self.skip_depth or classes & _SKIP_CLASSES:
            self.skip_depth += 1
        elif tag in {"h2", "h3"}:
            anchor = dict(attrs).get("id") or ""
            self.sections.append({"anchor": anchor, "heading": [], "text": []})
            self.in_heading = True
        elif tag in _BLOCK_TAGS:
            self._part().append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.stack:
            return
        while self.stack:
            opened = self.stack.pop()
            if self.skip_depth:
                self.skip_depth -= 1
            elif opened in {"h2", "h3"}:
                self.in_heading = False
            if opened == tag:
                break
        if tag in _BLOCK_TAGS:
            self._part().append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self._part().append(data)

    def _part(self) -> list[str]:
        return self.sections[-1]["heading" if self.in_heading else "text"]


def split_sections(body_html: str, summary: str = "") -> tuple[EntrySection, ...]:
    """The plain text of a lesson's HTML, one ``EntrySection`` per h2/h3."""
    parser = _SectionSplitter()
    parser.feed(body_html)
    parser.close()
    parts = parser.sections
    if len(parts) > MAX_SECTIONS:  # fold the (absurd) excess into the last section
        for extra in parts[MAX_SECTIONS:]:
            parts[MAX_SECTIONS - 1]["text"] += [" ", *extra["heading"], " ", *extra["text"]]
        del parts[MAX_SECTIONS:]
    sections = []
    for position, part in enumerate(parts):
        heading = clean_text("".join(part["heading"]))
        text = clean_text("".join(part["text"]))
        if position == 0 and summary:
            text = clean_text(f"{summary} {text}")
        if position == 0 or heading or text:
            sections.append(EntrySection(position, part["anchor"], heading, text))
    return tuple(sections)


def build_entry(tutorial: Any) -> Entry:
    """The index entry for a saved Tutorial, from its stored HTML and fields."""
    sections = split_sections(tutorial.body_html or "", tutorial.summary or "")
    title = clean_text(tutorial.title)
    return Entry(
        tutorial_id=tutorial.pk,
        title=title,
        title_key=normalize(title),
        headings="\n".join(s.heading for s in sections),
        body="\n".join(s.text for s in sections),
        anchors="\n".join(s.anchor for s in sections),
        sections=sections,
    )


# Queries ------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One word, or a phrase of adjacent words; ``prefix`` if its last word may be
    the start of a longer one."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Query:
    """A query reduced to terms: all must match (or, failing that, any)."""

    terms: tuple[Term, ...] = ()
    excluded: tuple[Term, ...] = ()
    key: str = ""  # normalize(text): for exact title matches and the misses table

    def __bool__(self) -> bool:
        return bool(self.terms)


def parse_query(text: str) -> Query:
    """Read a search box's text as terms.

    ``"under the hood"`` is a phrase, ``post_save`` one word, ``-word`` excludes a word
    (when something else is searched for), stop words are dropped, and the last
    term is a prefix (``sig`` finds "signals") unless it was quoted. Everything
    that is not a word is ignored.
    """
    chunks: list[tuple[Term, bool, bool]] = []  # (term, excluded, quoted)
    for match in _CHUNK_RE.finditer(text):
        negated, phrase, plain = bool(match[1]), match[2], match[3]
        if plain is not None and plain.startswith("-") and len(plain) > 1:
            negated, plain = True, plain[1:]
        found = tuple(words(phrase if phrase is not None else plain))
        if not found or (phrase is None and len(found) == 1 and found[0] in STOP_WORDS):
            continue
        chunks.append((Term(found), negated, phrase is not None))
    if all(negated for _, negated, _ in chunks):  # "-x" alone searches for x
        chunks = [(term, False, quoted) for term, _, quoted in chunks]
    wanted = [(term, quoted) for term, negated, quoted in chunks if not negated][:MAX_TERMS]
    excluded = [term for term, negated, _ in chunks if negated][:MAX_TERMS]
    terms = [term for term, _ in wanted]
    if wanted and not wanted[-1][1]:
        terms[-1] = Term(terms[-1].words, prefix=True)
    return Query(tuple(terms), tuple(excluded), normalize(text)[:200])


# Highlighting -------------------------------------------------------------------


class Highlighted:
    """Stored text with its matched words, as HTML or as JSON segments.

    The stored text is escaped first and only then are ``<mark>`` tags added, so a
    lesson titled ``<script>`` is shown as text.
    """

    def __init__(self, segments: list[tuple[str, bool]]) -> None:
        self.segments = segments

    @classmethod
    def from_marked(cls, text: str) -> Highlighted:
        """Parse text in which a backend wrapped matches in MATCH_START/MATCH_END.

        An unpaired marker (a snippet cut inside a match) is dropped.
        """
        segments: list[tuple[str, bool]] = []
        inside = False
        for piece in _MARKER_RE.split(text or ""):
            if piece == MATCH_START:
                inside = True
            elif piece == MATCH_END:
                inside = False
            elif piece:
                segments.append((piece, inside))
        merged: list[tuple[str, bool]] = []
        for piece, marked in segments:
            if merged and merged[-1][1] == marked:
                merged[-1] = (merged[-1][0] + piece, marked)
            else:
                merged.append((piece, marked))
        return cls(merged)

    @classmethod
    def plain(cls, text: str) -> Highlighted:
        return cls([(text, False)] if text else [])

    @property
    def html(self) -> SafeString:
        """The text, escaped, with ``<mark>`` around each match."""
        # Safe: every piece of text is escaped here, before the marks are added.
        return mark_safe(
            "".join(
                f"<mark>{escape(text)}</mark>" if marked else escape(text)
                for text, marked in self.segments
            )
        )

    def __html__(self) -> str:
        return self.html

    def __str__(self) -> str:
        return "".join(text for text, _ in self.segments)

    def __bool__(self) -> bool:
        return bool(self.segments)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Highlighted) and self.segments == other.segments

    def __repr__(self) -> str:
        return f"Highlighted({self.segments!r})"

    @property
    def matched(self) -> list[str]:
        return [text for text, marked in self.segments if marked]


# Choosing the part of a lesson a hit links to -----------------------------------

SNIPPET_LENGTH = 180  # characters around the matches, about 30 words


def best_part(headings: str, body: str, anchors: str) -> dict[str, str]:
    """The section whose heading and text have the most of the matched words.

    The arguments are an entry's line-per-section columns, with matches wrapped in
    MATCH_START/MATCH_END. Returns the section's anchor, its marked heading and a
    marked snippet of its text; the introduction when nothing matched.
    """
    heading_lines, body_lines = headings.split("\n"), body.split("\n")
    anchor_lines = anchors.split("\n")
    best, best_score = 0, (0, 0, 0)
    for index, text in enumerate(body_lines):
        heading = heading_lines[index] if index < len(heading_lines) else ""
        if MATCH_START not in heading and MATCH_START not in text:
            continue
        found = _matches(heading) + _matches(text)
        # Most distinct words, then a match in the heading, then most matches.
        score = (len({w.casefold() for w in found}), bool(_matches(heading)), len(found))
        if score > best_score:
            best, best_score = index, score
    return {
        "anchor": anchor_lines[best] if best < len(anchor_lines) else "",
        "heading": heading_lines[best] if best < len(heading_lines) else "",
        "snippet": snippet(body_lines[best]),
    }


def _matches(marked: str) -> list[str]:
    return re.findall(f"{MATCH_START}([^{MATCH_END}]*){MATCH_END}", marked)


def snippet(marked: str, length: int = SNIPPET_LENGTH) -> str:
    """About ``length`` characters of ``marked`` around its first cluster of matches,
    cut at spaces (never inside a match), with "…" where text was left out."""
    if len(marked) <= length:
        return marked
    first = marked.find(MATCH_START)
    start = 0 if first < length // 3 else marked.rfind(" ", 0, first - length // 4) + 1
    end = marked.find(" ", start + length)
    if end == -1:
        end = len(marked)
    opened, closed = marked.rfind(MATCH_START, start, end), marked.rfind(MATCH_END, start, end)
    if opened > closed:  # the cut fell inside a match: take the whole match
        end = marked.find(MATCH_END, opened) + 1
    text = marked[start:end].strip()
    return ("…" if start > 0 else "") + text + ("…" if end < len(marked) else "")
