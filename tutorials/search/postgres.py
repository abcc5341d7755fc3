"""
The search index on PostgreSQL: weighted tsvectors with GIN indexes.

``SearchDocument`` holds one row per published lesson, with two stored vectors:
``head_vector`` (title A, headings B) for the first tier of results and
``search_vector`` (+ body C) for all of them, each with a GIN index.
``SearchSection`` holds each h2/h3 part with its own vector, to pick the part a
hit links to and to cut its snippet with ``ts_headline``.

PostgreSQL's parser would read ``<b>`` in a lesson's text (code, mostly) as an HTML
tag and drop it; ``text()`` hands it the text with ``TAG_GUARD`` in place of "<",
so ``<script>`` is indexed and shown as the words it is, as on SQLite.

Queries are built from parsed terms only (``tutorials.search.text.parse_query``):
each term goes through ``websearch_to_tsquery`` (a phrase in double quotes), and
the prefix term through ``to_tsquery`` with its words quoted as lexemes. Neither
parser ever sees the raw text, so no input can be a tsquery syntax error.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from functools import reduce

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
)
from django.db import connection, transaction
from django.db.models import F, Q, TextField, Value
from django.db.models.functions import Cast, Replace

from ..models import SearchDocument, SearchSection, SearchTerm, Section, Tutorial
from .text import (
    MATCH_END,
    MATCH_START,
    TAG_GUARD,
    Entry,
    Query,
    Term,
    best_section,
    word_forms,
)

CONFIG = "english"
# SearchRank's weights for D, C, B, A: body (C) counts a tenth of a title word (A).
WEIGHTS = [0.1, 0.1, 0.4, 1.0]  # identifier parts (D) count as body text
NORMALIZATION = 1  # divide by 1 + log(length): long lessons do not win by length alone
# ts_rank reads each whole vector (a lesson's is ~5 kB, compressed out of line): rank
# fewer candidates than SQLite's bm25 does: the newest RANK_CAP matches (only binds
# for a word in more lessons than that).
RANK_CAP = 100
SNIPPET_WORDS = (12, 24)  # MinWords, MaxWords


def _term_query(term: Term) -> SearchQuery:
    if term.prefix:
        # Words are letters and digits only, so quoting them makes valid lexemes.
        lexemes = " <-> ".join(f"'{word}'" for word in term.words)
        return SearchQuery(f"{lexemes}:*", search_type="raw", config=CONFIG)
    return SearchQuery('"' + " ".join(term.words) + '"', search_type="websearch", config=CONFIG)


def tsquery(query: Query, mode: str) -> SearchQuery:
    """``query``'s terms ANDed (``mode="all"``) or ORed, minus its excluded terms."""
    combine = operator.and_ if mode == "all" else operator.or_
    result = reduce(combine, (_term_query(t) for t in query.terms))
    for term in query.excluded:
        result &= ~_term_query(Term(term.words))
    return result


# Writing ------------------------------------------------------------------------


def text(field: str) -> Replace:
    """A text column as PostgreSQL's parser should read it: "<" is not a tag."""
    return Replace(F(field), Value("<"), Value(TAG_GUARD), output_field=TextField())


def _unguard(marked: str | None) -> str | None:
    return marked.replace(TAG_GUARD, "<") if marked is not None else None


def _weighted(column: str, weight: str) -> str:
    """SQL for ``column``'s vector with ``weight``, "<" read as text (``TAG_GUARD``)."""
    text = f"replace({column}, '<', %(guard)s)"
    return f"setweight(to_tsvector(%(config)s::regconfig, {text}), '{weight}')"


_HEAD_VECTOR = f"{_weighted('e.title', 'A')} || {_weighted('e.headings', 'B')}"
# The vectors are computed in the INSERT itself: an UPDATE afterwards would leave a
# dead copy of every row (and of its index entries) that each search then reads
# past until VACUUM runs.
INSERT_DOCUMENTS_SQL = f"""
INSERT INTO {SearchDocument._meta.db_table}
    (tutorial_id, title, title_key, headings, body, parts, head_vector, search_vector)
SELECT e.id, e.title, e.title_key, e.headings, e.body, e.parts, {_HEAD_VECTOR},
    {_HEAD_VECTOR} || {_weighted("e.body", "C")} || {_weighted("e.parts", "D")}
FROM unnest(%(ids)s::int[], %(titles)s::text[], %(keys)s::text[], %(headings)s::text[],
    %(bodies)s::text[], %(parts)s::text[]) AS e(id, title, title_key, headings, body, parts)
"""
INSERT_SECTIONS_SQL = f"""
INSERT INTO {SearchSection._meta.db_table}
    (document_id, position, anchor, heading, body, search_vector)
SELECT e.document_id, e.position, e.anchor, e.heading, e.body,
    {_weighted("e.heading", "B")} || {_weighted("e.body", "C")}
FROM unnest(%(documents)s::int[], %(positions)s::int[], %(anchors)s::text[],
    %(headings)s::text[], %(bodies)s::text[]) AS e(document_id, position, anchor, heading, body)
"""
INSERT_BATCH = 500  # lessons per statement


def _insert(entries: Iterable[Entry]) -> list[int]:
    """Insert ``entries``' rows, their vectors computed in the same statements."""
    entries, ids = list(entries), []
    marks = {"config": CONFIG, "guard": TAG_GUARD}
    with connection.cursor() as cursor:
        for start in range(0, len(entries), INSERT_BATCH):
            batch = entries[start : start + INSERT_BATCH]
            cursor.execute(
                INSERT_DOCUMENTS_SQL,
                {
                    **marks,
                    "ids": [e.tutorial_id for e in batch],
                    "titles": [e.title for e in batch],
                    "keys": [e.title_key for e in batch],
                    "headings": [e.headings for e in batch],
                    "bodies": [e.body for e in batch],
                    "parts": [e.parts for e in batch],
                },
            )
            sections = [(e.tutorial_id, s) for e in batch for s in e.sections]
            cursor.execute(
                INSERT_SECTIONS_SQL,
                {
                    **marks,
                    "documents": [document_id for document_id, _ in sections],
                    "positions": [s.position for _, s in sections],
                    "anchors": [s.anchor for _, s in sections],
                    "headings": [s.heading for _, s in sections],
                    "bodies": [s.text for _, s in sections],
                },
            )
            ids += [e.tutorial_id for e in batch]
    return ids


def replace(tutorial_id: int, entry: Entry | None) -> None:
    """Replace one lesson's rows with ``entry``, or just delete them if None."""
    with transaction.atomic():
        SearchDocument.objects.filter(pk=tutorial_id).delete()  # sections cascade
        if entry is not None:
            _insert([entry])
            with connection.cursor() as cursor:
                where = f"WHERE tutorial_id = {int(tutorial_id)}"
                cursor.execute(ADD_TERMS_SQL.format(where=where))


def replace_all(entries: Iterable[Entry]) -> None:
    """Empty the index and fill it with ``entries``, in one transaction."""
    with transaction.atomic():
        SearchSection.objects.all().delete()
        SearchDocument.objects.all().delete()
        _insert(entries)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {SearchTerm._meta.db_table}")
            cursor.execute(ADD_TERMS_SQL.format(where=""))
            # Every row is new: fresh statistics keep the planner on the GIN indexes.
            tables = ", ".join(
                m._meta.db_table for m in (SearchDocument, SearchSection, SearchTerm)
            )
            cursor.execute(f"ANALYZE {tables}")


def indexed_ids() -> set[int]:
    return set(SearchDocument.objects.values_list("pk", flat=True))


def count() -> int:
    return SearchDocument.objects.count()


# Searching ----------------------------------------------------------------------


def exact_title(query: Query) -> list[int]:
    """Lessons whose whole title is the query's text."""
    if not query.key:
        return []
    matches = SearchDocument.objects.filter(title_key=query.key, tutorial__published=True)
    return list(matches.values_list("pk", flat=True))


def ranked(
    query: Query, mode: str, headings_only: bool, limit: int, cap: int, exclude: Iterable[int]
) -> list[int]:
    """Ids of the lessons matching ``query``, best first by weighted ts_rank.

    ``headings_only`` searches title and headings only. The rank is computed for
    the ``cap`` newest matching lessons at most, as on SQLite.
    """
    field = "head_vector" if headings_only else "search_vector"
    search = tsquery(query, mode)
    candidates = (
        SearchDocument.objects.filter(**{field: search})
        # Entries the receivers never removed (a raw SQL delete) take no place.
        .filter(tutorial__published=True, tutorial__section__isnull=False)
        .exclude(pk__in=list(exclude))
        .order_by("-pk")
        .values("pk")[:cap]
    )
    rows = (
        SearchDocument.objects.filter(pk__in=candidates)
        .annotate(rank=SearchRank(F(field), search, weights=WEIGHTS, normalization=NORMALIZATION))
        .order_by("-rank", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return list(rows)


def details(query: Query, ids: list[int]) -> dict[int, dict[str, str]]:
    """For each lesson in ``ids``: its title with matches marked, and the section
    that matches the query's words best (its introduction if none does).

    Two queries: the candidate sections with their rank, then ``ts_headline`` for
    the chosen ones only (it parses the whole text, so it is not run for others).
    """
    search = tsquery(Query(query.terms), "any")
    candidates = (
        SearchSection.objects.filter(document_id__in=ids)
        .filter(Q(position=0) | Q(search_vector=search))
        .annotate(rank=SearchRank(F("search_vector"), search, weights=WEIGHTS))
        .order_by()
        .values_list("pk", "document_id", "position", "rank")
    )
    best: dict[int, tuple[tuple[float, int], int]] = {}
    for pk, document_id, position, rank in candidates:
        score = (rank, -position)  # the best rank, then the earliest section
        if document_id not in best or score > best[document_id][0]:
            best[document_id] = (score, pk)
    marks = {"start_sel": MATCH_START, "stop_sel": MATCH_END, "config": CONFIG}
    min_words, max_words = SNIPPET_WORDS
    rows = (
        SearchSection.objects.filter(pk__in=[pk for _, pk in best.values()])
        .annotate(
            marked_title=SearchHeadline(
                text("document__title"), search, highlight_all=True, **marks
            ),
            marked_heading=SearchHeadline(text("heading"), search, highlight_all=True, **marks),
            snippet=SearchHeadline(
                text("body"), search, min_words=min_words, max_words=max_words, **marks
            ),
        )
        .order_by()
        .values_list("document_id", "anchor", "body", "marked_title", "marked_heading", "snippet")
    )
    return {
        document_id: {
            "title": _unguard(title),
            "anchor": anchor,
            "heading": _unguard(heading),
            "snippet": _with_ellipses(_unguard(snippet), body),
        }
        for document_id, anchor, body, title, heading, snippet in rows
    }


def _with_ellipses(snippet: str | None, body: str) -> str:
    """Mark where ts_headline cut the text, as FTS5's snippet() does."""
    if snippet is None:
        return body[:200] + ("…" if len(body) > 200 else "")
    text = snippet.replace(MATCH_START, "").replace(MATCH_END, "")
    start = body.find(text)
    if start > 0:
        snippet = "…" + snippet
    if start < 0 or start + len(text) < len(body):
        snippet += "…"
    return snippet


# The fast path: one statement for the ranking, one for the details ----------------
#
# The ORM expressions above cost ~4 ms of Python per search and the planner, given
# a prefix query, sometimes walked the primary key instead of the GIN index. These
# statements are what search() runs (tests/test_search_postgres_plans.py keeps
# their plans).

DOCUMENT_TABLE = SearchDocument._meta.db_table
SECTION_TABLE = SearchSection._meta.db_table
TUTORIAL_TABLE = Tutorial._meta.db_table
SECTION_MODEL_TABLE = Section._meta.db_table
WEIGHTS_ARRAY = "'{" + ",".join(str(w) for w in WEIGHTS) + "}'::float4[]"


def tsquery_text(query: Query, mode: str, *, match: bool = False) -> str:
    """``to_tsquery`` text for ``query``: words quoted as lexemes (they are letters,
    digits and "_" only), phrases with <->, the prefix term's last word with :*,
    a term's alternatives ORed with it.

    ``match``: the text that finds the lessons in the whole-lesson vector, where an
    identifier (post_save) is matched as its joined parts ("postsave", indexed in
    ``parts``), as on SQLite, where it is one token. Its phrase form, post <-> save,
    makes PostgreSQL re-read the vector of every lesson with both words, to check
    that they are adjacent (tens of ms when they are in most lessons).
    """
    joiner = " & " if mode == "all" else " | "
    text = "(" + joiner.join(_term_text(t, match=match) for t in query.terms) + ")"
    for t in query.excluded:
        text += f" & !{_term_text(Term(t.words))}"
    return text


# to_tsquery(regconfig, constant) is immutable, so the planner folds it into a
# constant that the GIN index can use (a tsquery from a CTE or join could not).
TSQUERY = "to_tsquery(%(config)s::regconfig, %(tsquery)s)"
MATCH = "to_tsquery(%(config)s::regconfig, %(match)s)"
PUBLISHED = "t.published AND t.section_id IS NOT NULL"


def _rank(vector: str) -> str:
    return f"ts_rank({WEIGHTS_ARRAY}, {vector}, {TSQUERY}, {NORMALIZATION})"


# The tiers of the ranking, best first: the whole title, then title or headings, then
# anywhere, each its own SELECT with its own LIMIT. PostgreSQL runs the parts of a
# UNION ALL in order and stops once the outer LIMIT is met, so a word in many titles
# never reads the big vectors at all. Each tier ranks the ``cap`` newest matches at
# most; "- tutorial_id" keeps the primary key's index out of that ORDER BY, which
# the planner would walk backwards, testing each lesson's vector until ``cap`` match
# (all of them, for a rare word it thinks common). Entries of lessons that are gone
# or unpublished (never removed by a receiver) can take a place among the ``cap``
# ranked, as on SQLite, but never among the results.
RANKED_SQL = f"""
SELECT r.tutorial_id, t.title, t.slug, s.slug, s.title FROM ((
    SELECT 0 AS tier, d.tutorial_id, 0::float4 AS rank FROM {DOCUMENT_TABLE} d
    JOIN {TUTORIAL_TABLE} t ON t.id = d.tutorial_id
    WHERE d.title_key = %(key)s AND {PUBLISHED}
    ORDER BY d.tutorial_id LIMIT %(limit)s
) UNION ALL (
    SELECT 1, c.tutorial_id, {_rank("c.head_vector")} AS rank FROM (
        SELECT d.tutorial_id, d.title_key, d.head_vector FROM {DOCUMENT_TABLE} d
        WHERE d.head_vector @@ {TSQUERY} ORDER BY - d.tutorial_id LIMIT %(cap)s
    ) c JOIN {TUTORIAL_TABLE} t ON t.id = c.tutorial_id
    WHERE c.title_key <> %(key)s AND {PUBLISHED}
    ORDER BY rank DESC, c.tutorial_id LIMIT %(limit)s
) UNION ALL (
    SELECT 2, d.tutorial_id, {_rank("d.search_vector")} AS rank FROM (
        SELECT d.tutorial_id FROM {DOCUMENT_TABLE} d
        WHERE d.search_vector @@ {MATCH} ORDER BY - d.tutorial_id LIMIT %(cap)s
    ) c JOIN {DOCUMENT_TABLE} d ON d.tutorial_id = c.tutorial_id
    JOIN {TUTORIAL_TABLE} t ON t.id = d.tutorial_id
    WHERE d.title_key <> %(key)s AND NOT d.head_vector @@ {TSQUERY} AND {PUBLISHED}
    ORDER BY rank DESC, d.tutorial_id LIMIT %(limit)s
) LIMIT %(limit)s) r
JOIN {TUTORIAL_TABLE} t ON t.id = r.tutorial_id
JOIN {SECTION_MODEL_TABLE} s ON s.id = t.section_id
ORDER BY r.tier, r.rank DESC, r.tutorial_id
"""


# A word in most lessons looks cheaper to match by reading every row, which
# decompresses every lesson's vector (~15 ms at 1,000 lessons); the GIN index answers
# it from the index alone. One round trip: a multi-statement query is one implicit
# transaction, so SET LOCAL holds for the SELECT only (and DEFAULT restores the
# setting inside an outer transaction).
GIN_ONLY_RANKED_SQL = (
    f"SET LOCAL enable_seqscan = off; {RANKED_SQL}; SET LOCAL enable_seqscan = DEFAULT"
)


def ranked_params(query: Query, mode: str, limit: int, cap: int = RANK_CAP) -> dict:
    """The parameters of ``RANKED_SQL`` for ``query``."""
    return {
        "config": CONFIG,
        "tsquery": tsquery_text(query, mode),
        "match": tsquery_text(query, mode, match=True),
        "key": query.key,
        "cap": cap,
        "limit": limit,
    }


def ranked_ids(query: Query, limit: int, cap: int = RANK_CAP) -> tuple[list[tuple], str]:
    """The best ``limit`` lessons for ``query`` and how they matched ("all"/"any"),
    as rows ``(id, title, slug, section slug, section title)``, best first.

    Lessons with every term first; only when none has them, those with any. Within
    that: the whole title first, then matches in title or headings, then anywhere,
    each by weighted ts_rank; the ``cap`` newest matches of each are ranked at most.
    """
    modes = ("all",) if len(query.terms) == 1 else ("all", "any")
    with connection.cursor() as cursor:
        for mode in modes:
            cursor.execute(GIN_ONLY_RANKED_SQL, ranked_params(query, mode, limit, cap))
            cursor.nextset()  # the SELECT's rows, after the SET's (none)
            rows = cursor.fetchall()
            if rows:
                return rows, mode
    return [], ""


def _term_text(t: Term, weight: str = "", *, match: bool = False) -> str:
    """One term as to_tsquery text, its lexemes limited to ``weight`` (B: headings);
    ``match``: an identifier as its joined parts (see ``tsquery_text``)."""

    def lexeme(word: str, prefix: bool = False) -> str:
        label = (":*" if prefix else ":" if weight else "") + weight
        return f"'{word}'{label}"

    # PostgreSQL's parser reads post_save as the phrase post <-> save: so do we, so
    # that only the last part is a prefix ('post' <-> 'save':*, not 'post':* <-> …).
    parts = [part for word in t.words for part in word.split("_") if part]
    if match and len(t.words) == 1:
        parts = ["".join(parts)]  # as text.identifier_parts indexes it
    words = [lexeme(part) for part in parts[:-1]] + [lexeme(parts[-1], t.prefix)]
    alternatives = "".join(f" | {lexeme(word)}" for word in t.alternatives)
    return "(" + " <-> ".join(words) + alternatives + ")"


HEADLINE_SQL = f"""
SELECT s.id, s.document_id, s.anchor, s.body,
    ts_headline(%(config)s::regconfig, replace(d.title, '<', %(guard)s), {TSQUERY}, %(all)s),
    ts_headline(%(config)s::regconfig, replace(s.heading, '<', %(guard)s), {TSQUERY}, %(all)s),
    ts_headline(%(config)s::regconfig, replace(s.body, '<', %(guard)s), {TSQUERY}, %(snippet)s)
FROM {SECTION_TABLE} s JOIN {DOCUMENT_TABLE} d ON d.tutorial_id = s.document_id
WHERE s.id = ANY(%(sections)s)
"""


def _best_sections(terms: tuple[Term, ...], ids: list[int]) -> dict[int, tuple[int, int]]:
    """For each lesson in ``ids``, the section that answers the terms best (its id:
    how many terms it has, how many in its heading), chosen
    as on SQLite (``text.best_section``) from which terms each section and its
    heading have: one statement, a boolean per term and section."""
    params: dict = {"config": CONFIG, "ids": list(ids)}
    anywhere, heading = [], []
    for n, term in enumerate(terms):
        params[f"any{n}"], params[f"head{n}"] = _term_text(term), _term_text(term, "B")
        match = "s.search_vector @@ to_tsquery(%(config)s::regconfig, %({})s)"
        anywhere.append(match.format(f"any{n}"))
        heading.append(match.format(f"head{n}"))
    sql = (
        f"SELECT s.id, s.document_id, ARRAY[{', '.join(anywhere)}], "
        f"ARRAY[{', '.join(heading)}] FROM {SECTION_TABLE} s "
        "WHERE s.document_id = ANY(%(ids)s) ORDER BY s.document_id, s.position"
    )
    by_document: dict[int, list[tuple[int, set[int], set[int]]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for pk, document_id, found, in_heading in cursor.fetchall():
            by_document.setdefault(document_id, []).append(
                (
                    pk,
                    {n for n, hit in enumerate(found) if hit},
                    {n for n, hit in enumerate(in_heading) if hit},
                )
            )
    chosen = {}
    for sections in by_document.values():
        best = best_section([(anywhere, head) for _, anywhere, head in sections])
        pk, anywhere, head = sections[best]
        chosen[pk] = (len(anywhere), len(head))
    return chosen


def fast_details(query: Query, ids: list[int]) -> dict[int, dict[str, str]]:
    """As ``details()``, in two statements: the best section of each lesson (by
    the terms and hints it covers), then the marked title, heading and snippet."""
    if not ids:
        return {}
    sections = _best_sections(query.terms + query.hints, ids)
    marks = f"StartSel={MATCH_START}, StopSel={MATCH_END}"
    min_words, max_words = SNIPPET_WORDS
    params = {
        "config": CONFIG,
        "tsquery": tsquery_text(Query(query.terms), "any"),
        "sections": list(sections),
        "guard": TAG_GUARD,
        "all": f"{marks}, HighlightAll=true",
        "snippet": f"{marks}, MinWords={min_words}, MaxWords={max_words}",
    }
    with connection.cursor() as cursor:
        cursor.execute(HEADLINE_SQL, params)
        rows = cursor.fetchall()
    return {
        document_id: {
            "title": _unguard(title),
            "anchor": anchor,
            "heading": _unguard(heading),
            "snippet": _with_ellipses(_unguard(snippet), body),
            "covered": sections[pk],
        }
        for pk, document_id, anchor, body, title, heading, snippet in rows
    }


# Typo suggestions ------------------------------------------------------------------

# The words of the documents chosen by {where}, counted, into SearchTerm. ts_stat
# reads the stored vectors (stems, as the index holds them).
ADD_TERMS_SQL = (
    f"INSERT INTO {SearchTerm._meta.db_table} (word, documents) "
    "SELECT word, ndoc FROM ts_stat("
    f"'SELECT search_vector FROM {SearchDocument._meta.db_table} {{where}}') "
    "ON CONFLICT (word) DO NOTHING"
)
TRIGRAM_THRESHOLD = 0.2  # pg_trgm similarity: low, the edit distance decides after


def has_term(term: Term) -> bool:
    """Whether any lesson has ``term`` (as typed: a prefix if it is one)."""
    with connection.cursor() as cursor:
        # On the GIN index: for a word no lesson has, a scan that stops at the first
        # row found reads (and decompresses) every lesson's vector.
        cursor.execute(
            "SET LOCAL enable_seqscan = off; "
            f"SELECT 1 FROM {DOCUMENT_TABLE} WHERE search_vector @@ {MATCH} LIMIT 1; "
            "SET LOCAL enable_seqscan = DEFAULT",
            {"config": CONFIG, "match": tsquery_text(Query((term,)), "all", match=True)},
        )
        cursor.nextset()
        return cursor.fetchone() is not None


def similar_terms(word: str) -> list[tuple[str, int]]:
    """Words of the index (stems) that could be ``word`` mistyped, by pg_trgm
    similarity on SearchTerm's trigram index, with the number of lessons each is
    in. The caller picks by edit distance (``text.closest_term``)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL pg_trgm.similarity_threshold = %s", [TRIGRAM_THRESHOLD])
        forms = sorted(word_forms(word))
        matches = " OR ".join(["word %% %s"] * len(forms))  # each one on the index
        cursor.execute(
            f"SELECT word, documents FROM {SearchTerm._meta.db_table} "
            f"WHERE {matches} ORDER BY similarity(word, %s) DESC LIMIT 50",
            [*forms, word],
        )
        return cursor.fetchall()


def snapshot() -> dict[str, list[tuple]]:
    """Everything the index holds, as plain data (vectors as text)."""
    documents = SearchDocument.objects.order_by("pk").values_list(
        "pk", "title", "title_key", "headings", "body",
        Cast("head_vector", TextField()), Cast("search_vector", TextField()),
    )  # fmt: skip
    sections = SearchSection.objects.order_by("document_id", "position").values_list(
        "document_id", "position", "anchor", "heading", "body",
        Cast("search_vector", TextField()),
    )  # fmt: skip
    return {"documents": list(documents), "sections": list(sections)}
