"""
The search index on PostgreSQL: weighted tsvectors with GIN indexes.

``SearchDocument`` holds one row per published lesson, with two stored vectors:
``head_vector`` (title A, headings B) for the first tier of results and
``search_vector`` (+ body C) for all of them, each with a GIN index.
``SearchSection`` holds each h2/h3 part with its own vector, to pick the part a
hit links to. ``SearchWord`` maps the words of the lessons to their lexemes, so the
matched words of a hit are marked in Python (``text.mark``), without ``ts_headline``.

PostgreSQL's parser would read ``<b>`` in a lesson's text (code, mostly) as an HTML
tag and drop it; the vectors are made from the text with ``TAG_GUARD`` in place of
"<", so ``<script>`` is indexed as the words it is, as on SQLite.

Queries are built from parsed terms only (``tutorials.search.text.parse_query``),
as ``to_tsquery`` text with every word quoted as a lexeme (``tsquery_text``): the
parser never sees the raw text, so no input can be a tsquery syntax error.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from ..models import SearchDocument, SearchSection, SearchTerm, SearchWord, Section, Tutorial
from . import RANK_CAP  # the newest matches ranked per tier, as on SQLite
from .text import (
    TAG_GUARD,
    Entry,
    Query,
    Term,
    best_section,
    mark,
    marked_snippet,
    word_forms,
    word_parts,
)

CONFIG = "english"
# SearchRank's weights for D, C, B, A: body (C) counts a tenth of a title word (A).
WEIGHTS = [0.1, 0.1, 0.4, 1.0]  # identifier parts (D) count as body text
NORMALIZATION = 1  # divide by 1 + log(length): long lessons do not win by length alone


# Writing ------------------------------------------------------------------------


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
# Each word of the lessons not yet in SearchWord, with its lexeme (none: a stop word).
ADD_WORDS_SQL = f"""
INSERT INTO {SearchWord._meta.db_table} (word, lexeme)
SELECT w.word, l.lexeme FROM unnest(%(words)s::text[]) AS w(word)
CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(%(config)s::regconfig, w.word)))
    AS l(lexeme)
WHERE NOT EXISTS (SELECT 1 FROM {SearchWord._meta.db_table} x WHERE x.word = w.word)
ON CONFLICT (word) DO NOTHING
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
            words = set()
            for e in batch:
                words |= word_parts(" ".join([e.title, e.headings, e.body]))
            cursor.execute(ADD_WORDS_SQL, {**marks, "words": sorted(words)})
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
        SearchWord.objects.all().delete()
        _insert(entries)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {SearchTerm._meta.db_table}")
            cursor.execute(ADD_TERMS_SQL.format(where=""))
            # Every row is new: fresh statistics keep the planner on the GIN indexes.
            tables = ", ".join(
                m._meta.db_table for m in (SearchDocument, SearchSection, SearchTerm, SearchWord)
            )
            cursor.execute(f"ANALYZE {tables}")


def indexed_ids() -> set[int]:
    return set(SearchDocument.objects.values_list("pk", flat=True))


def count() -> int:
    return SearchDocument.objects.count()


# Searching ----------------------------------------------------------------------
#
# Two round trips whatever the number of hits (raw SQL: building ORM expressions cost
# ~4 ms of Python per search): the ranked lessons, each with which terms each of its
# sections has, and the words to highlight; then the text of the section each hit
# links to. tests/test_search_postgres_plans.py keeps their plans.

DOCUMENT_TABLE = SearchDocument._meta.db_table
SECTION_TABLE = SearchSection._meta.db_table
TUTORIAL_TABLE = Tutorial._meta.db_table
SECTION_MODEL_TABLE = Section._meta.db_table
WORD_TABLE = SearchWord._meta.db_table
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
# (all of them, for a rare word it thinks common).
#
# Entries of lessons that are gone or unpublished (never removed by a receiver) are
# left out after the ranking (``published`` is false): checking every candidate in
# each tier costs a third of the statement's time, for entries that should not
# exist. When one turns up, the statement is run again with the check in the tiers
# (``STRICT``), so such an entry never takes a place in the results, as on SQLite.
#
# For each ranked lesson (only those: LATERAL runs after the LIMIT), its title as
# indexed and its sections in order: ids, anchors, headings, and for each term
# whether the section has it and has it in its heading (the term's lexemes limited
# to weight B), from which Python picks the section a hit links to
# (text.best_section, as on SQLite).
_RANKED_SQL = f"""
SELECT r.tutorial_id, t.title, t.slug, s.slug, s.title,
    coalesce({PUBLISHED}, false) AS published, x.* FROM ((
    SELECT 0 AS tier, c.tutorial_id, 0::float4 AS rank FROM {DOCUMENT_TABLE} c
    WHERE c.title_key = %(key)s {{published}}
    ORDER BY c.tutorial_id LIMIT %(limit)s
) UNION ALL (
    SELECT 1, c.tutorial_id, {_rank("c.head_vector")} AS rank FROM (
        SELECT d.tutorial_id, d.title_key, d.head_vector FROM {DOCUMENT_TABLE} d
        WHERE d.head_vector @@ {TSQUERY} ORDER BY - d.tutorial_id LIMIT %(cap)s
    ) c
    WHERE c.title_key <> %(key)s {{published}}
    ORDER BY rank DESC, c.tutorial_id LIMIT %(limit)s
) UNION ALL (
    SELECT 2, c.tutorial_id, {_rank("c.search_vector")} AS rank FROM (
        SELECT d.tutorial_id, d.title_key, d.head_vector, d.search_vector
        FROM {DOCUMENT_TABLE} d
        WHERE d.search_vector @@ {MATCH} ORDER BY - d.tutorial_id LIMIT %(cap)s
    ) c
    WHERE c.title_key <> %(key)s AND NOT c.head_vector @@ {TSQUERY} {{published}}
    ORDER BY rank DESC, c.tutorial_id LIMIT %(limit)s
) LIMIT %(limit)s) r
LEFT JOIN {TUTORIAL_TABLE} t ON t.id = r.tutorial_id
LEFT JOIN {SECTION_MODEL_TABLE} s ON s.id = t.section_id
CROSS JOIN LATERAL (
    SELECT (SELECT d.title FROM {DOCUMENT_TABLE} d WHERE d.tutorial_id = r.tutorial_id),
        array_agg(ss.id ORDER BY ss.position) AS ids,
        array_agg(ss.anchor ORDER BY ss.position) AS anchors,
        array_agg(ss.heading ORDER BY ss.position) AS headings,
        array_agg(ARRAY[{{found}}] ORDER BY ss.position) AS found,
        array_agg(ARRAY[{{in_heading}}] ORDER BY ss.position) AS in_heading
    FROM {SECTION_TABLE} ss WHERE ss.document_id = r.tutorial_id
) x
ORDER BY r.tier, r.rank DESC, r.tutorial_id
"""
_CHECK = f"AND EXISTS (SELECT FROM {TUTORIAL_TABLE} t WHERE t.id = c.tutorial_id AND {PUBLISHED})"
RANKED_SQL = _RANKED_SQL.replace("{published}", "")
STRICT_RANKED_SQL = _RANKED_SQL.replace("{published}", _CHECK)
# The words (as the lessons spell them) of the query's lexemes, and of every lexeme a
# prefix starts: a range of SearchWord's byte-ordered index.
WORDS_SQL = f"""
SELECT w.word FROM (
    SELECT DISTINCT m[1] AS lexeme, m[2] IS NOT NULL AS prefix FROM regexp_matches(
        to_tsquery(%(config)s::regconfig, %(highlight)s)::text, '''([^'']+)''(:\\*)?', 'g'
    ) AS m
) q CROSS JOIN LATERAL (
    SELECT w.word FROM {WORD_TABLE} w
    WHERE w.lexeme >= q.lexeme AND w.lexeme < q.lexeme || chr(1114111)
        AND (q.prefix OR w.lexeme = q.lexeme)
    LIMIT %(words_cap)s
) w
"""
WORDS_CAP = 2000  # words per lexeme: binds only for a prefix of a letter or two


# A word in most lessons looks cheaper to match by reading every row, which
# decompresses every lesson's vector (~15 ms at 1,000 lessons); the GIN index answers
# it from the index alone. One round trip: a multi-statement query is one implicit
# transaction, so SET LOCAL holds for the SELECTs only (and DEFAULT restores the
# setting inside an outer transaction).
def _search_sql(ranked: str) -> str:
    return (
        f"SET LOCAL enable_seqscan = off; {ranked}; {WORDS_SQL}; SET LOCAL enable_seqscan = DEFAULT"
    )


SEARCH_SQL, STRICT_SEARCH_SQL = _search_sql(RANKED_SQL), _search_sql(STRICT_RANKED_SQL)
BODIES_SQL = f"SELECT id, body FROM {SECTION_TABLE} WHERE id = ANY(%(ids)s)"


def ranked_params(query: Query, mode: str, limit: int, cap: int = RANK_CAP) -> dict:
    """The parameters of ``SEARCH_SQL`` for ``query``."""
    params = {
        "config": CONFIG,
        "tsquery": tsquery_text(query, mode),
        "match": tsquery_text(query, mode, match=True),
        "highlight": tsquery_text(Query(query.terms), "any"),
        "key": query.key,
        "cap": cap,
        "limit": limit,
        "words_cap": WORDS_CAP,
    }
    for n, term in enumerate(query.terms + query.hints):
        params[f"any{n}"], params[f"head{n}"] = _term_text(term), _term_text(term, "B")
    return params


def ranked_sql(query: Query, sql: str = SEARCH_SQL) -> str:
    """``sql`` with one "found" and one "in heading" test per term and hint."""
    n = len(query.terms + query.hints)
    match = "ss.search_vector @@ to_tsquery(%(config)s::regconfig, %({}{})s)"
    return sql.replace("{found}", ", ".join(match.format("any", i) for i in range(n))).replace(
        "{in_heading}", ", ".join(match.format("head", i) for i in range(n))
    )


def _run(cursor, sql: str, params: dict) -> tuple[list[tuple], set[str]]:
    """The rows of the ranking and the words to mark, from one ``SEARCH_SQL``."""
    cursor.execute(sql, params)
    cursor.nextset()  # the ranking's rows, after the SET's (none)
    rows = cursor.fetchall()
    cursor.nextset()
    return rows, {word for (word,) in cursor.fetchall()}


def ranked_hits(query: Query, limit: int, cap: int = RANK_CAP) -> tuple[list[tuple], str, dict]:
    """The best ``limit`` lessons for ``query``, how they matched ("all"/"any") and
    each one's details, best first: rows ``(id, title, slug, section slug, section
    title)`` and ``{id: {"title", "anchor", "heading", "snippet", "covered"}}``, the
    title, heading and snippet with the matched words marked.

    Lessons with every term first; only when none has them, those with any. Within
    that: the whole title first, then matches in title or headings, then anywhere,
    each by weighted ts_rank; the ``cap`` newest matches of each are ranked at most.
    The section a hit links to is chosen as on SQLite (``text.best_section``).
    """
    modes = ("all",) if len(query.terms) == 1 else ("all", "any")
    with connection.cursor() as cursor:
        for mode in modes:
            params = ranked_params(query, mode, limit, cap)
            rows, forms = _run(cursor, ranked_sql(query), params)
            if not all(row[5] for row in rows):  # an entry the receivers left behind
                rows, forms = _run(cursor, ranked_sql(query, STRICT_SEARCH_SQL), params)
            if rows:
                break
        else:
            return [], "", {}
        chosen = {}
        for row in rows:
            sections = list(zip(*row[7:], strict=True))  # id, anchor, heading, found, head
            coverage = [
                (
                    {n for n, hit in enumerate(found) if hit},
                    {n for n, hit in enumerate(in_head) if hit},
                )
                for *_, found, in_head in sections
            ]
            best = best_section(coverage)
            chosen[sections[best][0]] = (row, sections[best], coverage[best])
        cursor.execute(BODIES_SQL, {"ids": list(chosen)})
        bodies = dict(cursor.fetchall())
    details = {}
    for pk, (row, (_, anchor, heading, *_), (anywhere, in_heading)) in chosen.items():
        details[row[0]] = {
            "title": mark(row[6], forms),  # as indexed, as SQLite's
            "anchor": anchor,
            "heading": mark(heading, forms),
            "snippet": marked_snippet(bodies.get(pk, ""), forms),
            "covered": (len(anywhere), len(in_heading)),
        }
    return [row[:5] for row in rows], mode, details


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
    forms = sorted(word_forms(word))
    matches = " OR ".join(["word %% %s"] * len(forms))  # each one on the index
    with connection.cursor() as cursor:
        # One round trip, one implicit transaction, as SEARCH_SQL: SET LOCAL holds
        # for the SELECT only (an atomic block cost a BEGIN and a COMMIT more).
        cursor.execute(
            "SET LOCAL pg_trgm.similarity_threshold = %s; "
            f"SELECT word, documents FROM {SearchTerm._meta.db_table} "
            f"WHERE {matches} ORDER BY similarity(word, %s) DESC LIMIT 50; "
            "SET LOCAL pg_trgm.similarity_threshold = DEFAULT",
            [TRIGRAM_THRESHOLD, *forms, word],
        )
        cursor.nextset()
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
