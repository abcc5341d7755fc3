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

import math
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
# Around inline code and code blocks in a section's stored text, so a snippet can show
# code as code (``Highlighted`` segments carry it). Only the splitter adds them.
CODE_START, CODE_END = "\x04", "\x05"
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
_MARKER_RE = re.compile(f"({MATCH_START}|{MATCH_END}|{CODE_START}|{CODE_END})")
_CODE_MARKS_RE = re.compile(f"[{CODE_START}{CODE_END}]")

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
# Learners type questions ("why doesn't my post_save fire on bulk_create"): the
# words of the question itself, and the halves of contractions, are not what they
# are looking for.
_QUESTION_WORDS = (
    "aren can cannot couldn d didn doesn hadn hasn haven isn ll m re shouldn ve wasn "
    "weren won wouldn would could get gets getting happen happens happening way ways "
    "know tell help please use using used work works working want need"
)
STOP_WORDS = frozenset(_STOP_WORDS.split()) | frozenset(_QUESTION_WORDS.split())


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


def _clean_marked(parts: list[str]) -> str:
    """Like ``clean_text``, but keeping the code markers the splitter put between
    the (cleaned) pieces of text; an empty code span is dropped."""
    text = "".join(p if p in (CODE_START, CODE_END) else _CONTROL_RE.sub(" ", p) for p in parts)
    text = text.replace(CODE_START + CODE_END, "")
    return _SPACE_RE.sub(" ", text).strip()


def without_code_marks(text: str) -> str:
    return _CODE_MARKS_RE.sub("", text)


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
    # The parts of the identifiers in title and headings / in the whole lesson, and
    # each one's parts joined: post_save -> "post save postsave". Indexed beside the
    # text so ``save`` finds post_save and ``bulk create`` or ``bulkcreate`` finds
    # bulk_create, while post_save stays one token for an exact search.
    head_parts: str = ""
    parts: str = ""


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
        elif tag == "code" and not self.in_heading:
            self._part().append(CODE_START)
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
            elif opened == "code" and not self.in_heading:
                self._part().append(CODE_END)
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
        text = _clean_marked(part["text"])
        if position == 0 and summary:
            text = f"{clean_text(summary)} {text}".strip()
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
        head_parts=identifier_parts(" ".join([title, *(s.heading for s in sections)])),
        parts=identifier_parts(" ".join([title, *(f"{s.heading} {s.text}" for s in sections)])),
    )


def identifier_parts(text: str) -> str:
    """The parts of each identifier in ``text`` (a word with "_"), and the parts
    joined, as often as the identifier occurs (so they rank as it would):
    ``"post_save and m2m_changed"`` -> ``"post save postsave m2m changed m2mchanged"``."""
    found: list[str] = []
    for word in words(text):
        if "_" in word:
            pieces = [piece for piece in word.split("_") if piece]
            found += [*pieces, "".join(pieces)]
    return " ".join(found)


# Queries ------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One word, or a phrase of adjacent words; ``prefix`` if its last word may be
    the start of a longer one. A one-word term matches its ``alternatives`` too."""

    words: tuple[str, ...]
    prefix: bool = False
    alternatives: tuple[str, ...] = ()


# How learners say a receiver does or does not run, and how the course says it:
# "signal not firing" is answered by "Receivers that never run".
_SYNONYM_GROUPS = [
    ("fire fires fired firing trigger triggers triggered triggering", "run runs sent send"),
]
SYNONYMS = {
    word: tuple(meant.split()) for typed, meant in _SYNONYM_GROUPS for word in typed.split()
}
# "not firing", "doesn't fire": the course says "never run". Such a hint is not
# required to match; it helps choose the section a hit links to.
_NEGATIONS = frozenset(
    ["not", "never", "no", "doesn", "don", "didn", "isn", "won", "wasn", "aren", "cannot"]
)
NEGATED_HINTS = dict.fromkeys(_SYNONYM_GROUPS[0][0].split(), ("never",))


@dataclass(frozen=True)
class Query:
    """A query reduced to terms: all must match (or, failing that, any)."""

    terms: tuple[Term, ...] = ()
    excluded: tuple[Term, ...] = ()
    key: str = ""  # normalize(text): for exact title matches and the misses table
    hints: tuple[Term, ...] = ()  # words that choose the section, never required

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
        if phrase is None:  # "doesn't" is two words, both stop words
            found = tuple(word for word in found if word not in STOP_WORDS)
        if not found:
            continue
        chunks.append((Term(found), negated, phrase is not None))
    if all(negated for _, negated, _ in chunks):  # "-x" alone searches for x
        chunks = [(term, False, quoted) for term, _, quoted in chunks]
    wanted = [(term, quoted) for term, negated, quoted in chunks if not negated][:MAX_TERMS]
    excluded = [term for term, negated, _ in chunks if negated][:MAX_TERMS]
    terms = [
        Term(term.words, alternatives=SYNONYMS.get(term.words[0], ()))
        if len(term.words) == 1 and not quoted
        else term
        for term, quoted in wanted
    ]
    if wanted and not wanted[-1][1]:
        terms[-1] = Term(terms[-1].words, prefix=True, alternatives=terms[-1].alternatives)
    return Query(tuple(terms), tuple(excluded), normalize(text)[:200], _hints(text))


def _hints(text: str) -> tuple[Term, ...]:
    """Hint words for a negated verb ("not firing", "doesn't fire")."""
    typed = [word for word in words(text) if word != "t"]  # doesn't -> doesn, t
    hints = []
    for before, word in zip(typed, typed[1:], strict=False):
        if before in _NEGATIONS and word in NEGATED_HINTS:
            hints += [Term((hint,)) for hint in NEGATED_HINTS[word]]
    return tuple(dict.fromkeys(hints))


# Highlighting -------------------------------------------------------------------


class Highlighted:
    """Stored text with its matched words, as HTML or as JSON segments.

    The stored text is escaped first and only then are ``<mark>`` tags added, so a
    lesson titled ``<script>`` is shown as text.
    """

    def __init__(self, segments: list[tuple]) -> None:
        # (text, is_match) pairs; (text, is_match, True) for a piece of code.
        self.segments = segments

    @classmethod
    def from_marked(cls, text: str) -> Highlighted:
        """Parse text in which a backend wrapped matches in MATCH_START/MATCH_END.

        An unpaired marker (a snippet cut inside a match) is dropped.
        """
        segments: list[tuple[str, bool, bool]] = []
        inside = code = False
        for piece in _MARKER_RE.split(text or ""):
            if piece == MATCH_START:
                inside = True
            elif piece == MATCH_END:
                inside = False
            elif piece == CODE_START:
                code = True
            elif piece == CODE_END:
                code = False
            elif piece:
                segments.append((piece, inside, code))
        merged: list[tuple[str, bool, bool]] = []
        for piece, marked, is_code in segments:
            if merged and merged[-1][1:] == (marked, is_code):
                merged[-1] = (merged[-1][0] + piece, marked, is_code)
            else:
                merged.append((piece, marked, is_code))
        return cls([(t, m) if not c else (t, m, c) for t, m, c in merged])

    @classmethod
    def plain(cls, text: str) -> Highlighted:
        return cls([(text, False)] if text else [])

    @property
    def html(self) -> SafeString:
        """The text, escaped, with ``<mark>`` around each match."""
        # Safe: every piece of text is escaped here, before the marks are added.
        out = []
        for text, marked, *code in self.segments:
            piece = f"<mark>{escape(text)}</mark>" if marked else escape(text)
            out.append(f"<code>{piece}</code>" if code else piece)
        return mark_safe("".join(out).replace("</code><code>", ""))

    def __html__(self) -> str:
        return self.html

    def __str__(self) -> str:
        return "".join(segment[0] for segment in self.segments)

    def __bool__(self) -> bool:
        return bool(self.segments)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Highlighted) and self.segments == other.segments

    def __repr__(self) -> str:
        return f"Highlighted({self.segments!r})"

    @property
    def matched(self) -> list[str]:
        return [segment[0] for segment in self.segments if segment[1]]


# Choosing the part of a lesson a hit links to -----------------------------------

SNIPPET_LENGTH = 180  # characters around the matches, about 30 words


def best_part(headings: str, body: str, anchors: str, query: Query | None = None) -> dict[str, str]:
    """The section that answers ``query`` best (see ``best_section``).

    The arguments are an entry's line-per-section columns, with matches wrapped in
    MATCH_START/MATCH_END. Returns the section's anchor, its marked heading and a
    marked snippet of its text; the introduction when nothing matched.
    """
    heading_lines, body_lines = headings.split("\n"), body.split("\n")
    anchor_lines = anchors.split("\n")
    terms = (*query.terms, *query.hints) if query is not None else None
    coverage = []
    for index, text in enumerate(body_lines):
        heading = heading_lines[index] if index < len(heading_lines) else ""
        in_heading = _covered(_matches(heading), terms)
        coverage.append((in_heading | _covered(_matches(text), terms), in_heading))
    best = best_section(coverage)
    return {
        "anchor": anchor_lines[best] if best < len(anchor_lines) else "",
        "heading": heading_lines[best] if best < len(heading_lines) else "",
        "snippet": snippet(body_lines[best]),
        "covered": (len(coverage[best][0]), len(coverage[best][1])) if coverage else (0, 0),
    }


def best_section(coverage: list[tuple[set[int], set[int]]]) -> int:
    """The index of the section that answers the query best, given for each
    section the query terms (their indexes) found in it and in its heading.

    Each term found counts by how rare it is in this lesson (a word in every
    section, such as "signal" in a lesson on signals, counts least), twice in a
    heading: "signal not firing" lands on "Receivers that never run", not on the
    section that only says "signal" in its heading. Ties go to the earliest.
    """
    total = len(coverage)
    sections_with: dict[int, int] = {}
    for anywhere, _ in coverage:
        for term in anywhere:
            sections_with[term] = sections_with.get(term, 0) + 1
    best, best_score = 0, 0.0
    for index, (anywhere, in_heading) in enumerate(coverage):
        score = sum(
            (1 + math.log(total / sections_with[term])) * (2 if term in in_heading else 1)
            for term in anywhere
        )
        if score > best_score:
            best, best_score = index, score
    return best


def _covered(marked: list[str], terms: tuple[Term, ...] | None) -> set:
    """The indexes of ``terms`` that the marked words are matches of (without
    terms: the distinct marked words themselves)."""
    if terms is None:
        return {m.casefold() for m in marked}
    if not marked:
        return set()
    found = set()
    for word in {m.casefold() for m in marked}:
        for index, term in enumerate(terms):
            if any(_same_word(word, form) for form in (*term.words, *term.alternatives)):
                found.add(index)
    return found


def _same_word(marked: str, form: str) -> bool:
    """Whether ``marked`` (as the text has it) is a match of ``form`` (as typed):
    equal, or sharing all but an ending (stemming: "signals" for "signal")."""
    if marked == form:
        return True
    stem = form[: max(3, len(form) - 2)]
    return len(form) >= 3 and marked.startswith(stem)


_MATCHED_RE = re.compile(f"{MATCH_START}([^{MATCH_END}]*){MATCH_END}")


def _matches(marked: str) -> list[str]:
    return _MATCHED_RE.findall(marked) if MATCH_START in marked else []


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


# Words of the text as a highlight sees them: identifiers split at "_", as PostgreSQL's
# parser splits them (post_save is "post" and "save").
_PART_RE = re.compile(r"[^\W_]+")


def word_parts(text: str) -> set[str]:
    """The distinct casefolded words of ``text``, split at "_" too (see ``mark``)."""
    return set(_PART_RE.findall(text.casefold()))


def mark(text: str, words: set[str]) -> str:
    """``text`` with MATCH_START/MATCH_END around each of its words (split at "_")
    whose casefolded form is in ``words``."""
    if not words:
        return text
    return _PART_RE.sub(
        lambda m: f"{MATCH_START}{m[0]}{MATCH_END}" if m[0].casefold() in words else m[0], text
    )


def marked_snippet(text: str, words: set[str], length: int = SNIPPET_LENGTH) -> str:
    """As ``snippet(mark(text, words), length)``, marking only the words it shows
    (a section is ~1 kB, a snippet ~30 words)."""
    if len(text) <= length:
        return mark(text, words)
    first = max(_first_match(text, words), 0)
    start = 0 if first < length // 3 else text.rfind(" ", 0, first - length // 4) + 1
    end = text.find(" ", start + length)
    if end == -1:
        end = len(text)
    shown = mark(text[start:end].strip(), words)
    return ("…" if start > 0 else "") + shown + ("…" if end < len(text) else "")


def _first_match(text: str, words: set[str]) -> int:
    """Where the first word of ``text`` in ``words`` starts (-1: none)."""
    folded = text.casefold()
    if len(words) > 20 or len(folded) != len(text):  # many forms, or offsets moved
        return next((m.start() for m in _PART_RE.finditer(text) if m[0].casefold() in words), -1)
    first = -1
    for word in words:  # str.find per word: C speed, no Python per word of the text
        at = folded.find(word)
        while at != -1 and (first == -1 or at < first):
            before, after = folded[at - 1 : at], folded[at + len(word) : at + len(word) + 1]
            if not _PART_RE.match(before) and not _PART_RE.match(after):  # a whole word
                first = at
                break
            at = folded.find(word, at + 1)
    return first


# Typos ----------------------------------------------------------------------------

# Endings a stemmer takes off: an index's vocabulary holds stems ("receiv",
# "chang"), so a typed word is compared with and without them.
_ENDINGS = ("ings", "ing", "ers", "er", "ed", "es", "s", "e")


def word_forms(word: str) -> set[str]:
    """``word`` and ``word`` without one common ending (at least 3 letters left)."""
    forms = {word}
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            forms.add(word[: -len(ending)])
    return forms


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): insertions,
    deletions, substitutions and swaps of two adjacent letters cost 1 each."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def max_typos(word: str) -> int:
    """How many edits a word of this length may be away from what was meant."""
    return 1 if len(word) <= 5 else 2


def closest_term(word: str, vocabulary: list[tuple[str, int]]) -> str | None:
    """The term of ``vocabulary`` ((term, documents) pairs) nearest to ``word``:
    fewest edits from any of its forms (see ``word_forms``), then in most
    documents; None when every term is too far (see ``max_typos``)."""
    best, best_key = None, None
    forms = word_forms(word)
    for term, documents in vocabulary:
        if "_" in term or term in forms:
            continue
        distance = min(edit_distance(form, term) for form in forms)
        if distance > max_typos(word):
            continue
        key = (distance, -documents, term)
        if best_key is None or key < best_key:
            best, best_key = term, key
    return best
