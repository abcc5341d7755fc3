"""
The search index on SQLite: two FTS5 tables, kept in sync by this module.

``tutorials_search_document`` has one row per published lesson (rowid = the
Tutorial's id): title, headings and body, ranked by bm25 with weights 10/5/1, plus
the section anchors (unindexed). Headings, body and anchors hold one line per
section, so the highlighted body of a hit tells which section its words are in.
``tutorials_search_heading`` repeats only title and headings: the first tier of
results, whose small doclists stay cheap to rank however large the course grows.

Both tables store their own copy of the text (no external content table to drift
from), use the Porter stemmer (``saving`` finds "save"), count "_" as a letter
(``post_save`` is one token: a query for it does not intersect the position lists
of "post" and "save", which are in nearly every lesson) and keep prefix indexes
for 2 to 8 letters, so the last word of a query, which is a prefix, does not have
to merge the doclists of every word it starts at query time (most English stems
are 8 letters or fewer: "transaction" is stemmed to "transact").
Only strings built by ``match_expression()`` reach MATCH: each word is quoted as
an FTS5 string, so no user text can be FTS5 syntax.

A third column set, ``parts``, holds the parts of identifiers (``save`` finds
post_save, see ``text.identifier_parts``); ``tutorials_search_vocab`` (fts5vocab)
lists the index's terms for typo suggestions. The migrations ``0002_search`` and
``0003_search_parts_vocabulary`` create the tables on SQLite only.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from ..models import Tutorial
from .text import MATCH_END, MATCH_START, Entry, Query, Term, best_part, normalize

DOCUMENTS = "tutorials_search_document"
HEADINGS = "tutorials_search_heading"
VOCABULARY = "tutorials_search_vocab"  # fts5vocab: each term of DOCUMENTS, in how many
# title, headings, body, key, anchors, identifier parts (see text.identifier_parts)
DOCUMENT_RANK = "bm25(10.0, 5.0, 1.0, 0.0, 0.0, 1.0)"
HEADING_RANK = "bm25(10.0, 5.0, 2.0)"  # title, headings, their identifier parts
MARKS = f"char({ord(MATCH_START)}), char({ord(MATCH_END)})"


def _fts_string(term: Term) -> str:
    """One term as an FTS5 string (a phrase if it has several words)."""
    quoted = '"' + " ".join(term.words).replace('"', '""') + '"'
    if term.prefix:
        quoted += " *"
    if term.alternatives:
        quoted = "(" + " OR ".join([quoted, *(f'"{word}"' for word in term.alternatives)]) + ")"
    return quoted


def match_expression(query: Query, mode: str) -> str:
    """The MATCH text for ``query``: its terms ANDed (``mode="all"``) or ORed."""
    joiner = " AND " if mode == "all" else " OR "
    expression = "(" + joiner.join(_fts_string(t) for t in query.terms) + ")"
    if query.excluded:
        expression += " NOT (" + " OR ".join(_fts_string(t) for t in query.excluded) + ")"
    return expression


# Writing ------------------------------------------------------------------------


def _delete(cursor, tutorial_ids: list[int] | None = None) -> None:
    for table in (DOCUMENTS, HEADINGS):
        if tutorial_ids is None:
            cursor.execute(f"DELETE FROM {table}")
        else:
            cursor.execute(f"DELETE FROM {table} WHERE rowid = %s", tutorial_ids)


def _insert(cursor, entries: Iterable[Entry]) -> None:
    for e in entries:
        cursor.execute(
            f"INSERT INTO {DOCUMENTS} (rowid, title, headings, body, title_key, anchors, parts) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [e.tutorial_id, e.title, e.headings, e.body, e.title_key, e.anchors, e.parts],
        )
        cursor.execute(
            f"INSERT INTO {HEADINGS} (rowid, title, headings, parts) VALUES (%s, %s, %s, %s)",
            [e.tutorial_id, e.title, e.headings, e.head_parts],
        )


def replace(tutorial_id: int, entry: Entry | None) -> None:
    """Replace one lesson's rows with ``entry``, or just delete them if None."""
    with transaction.atomic(), connection.cursor() as cursor:
        _delete(cursor, [tutorial_id])
        if entry is not None:
            _insert(cursor, [entry])


def replace_all(entries: Iterable[Entry]) -> None:
    """Empty both tables and fill them with ``entries``, in one transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        _delete(cursor)
        _insert(cursor, entries)
        for table in (DOCUMENTS, HEADINGS):
            # Merge the b-tree segments the inserts left behind: faster queries.
            cursor.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")


def indexed_ids() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {DOCUMENTS}")
        return {row[0] for row in cursor.fetchall()}


def count() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {DOCUMENTS}")
        return cursor.fetchone()[0]


# Searching ----------------------------------------------------------------------


def _published(table: str) -> str:
    """A condition on a row of ``table``: its lesson exists and is published now.

    Checked on the rows FTS5 hands back in rank order, so it costs a primary-key
    lookup per row read; an entry the receivers never removed (a raw SQL delete, a
    failed update) can then never take a place in the results.
    """
    return (
        f"EXISTS (SELECT 1 FROM {Tutorial._meta.db_table} AS lesson "
        f"WHERE lesson.id = {table}.rowid AND lesson.published "
        "AND lesson.section_id IS NOT NULL)"
    )


def exact_title(query: Query) -> list[int]:
    """Lessons whose whole title is the query's text."""
    if not query.key:
        return []
    phrase = '"' + query.key.replace('"', '""') + '"'
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid, title FROM {HEADINGS} WHERE {HEADINGS} MATCH %s "
            f"AND {_published(HEADINGS)} ORDER BY rowid LIMIT 20",
            [f"title : ^ {phrase}"],
        )
        rows = cursor.fetchall()
    return [rowid for rowid, title in rows if normalize(title) == query.key]


def ranked(
    query: Query, mode: str, headings_only: bool, limit: int, cap: int, exclude: Iterable[int]
) -> list[int]:
    """Ids of the lessons matching ``query``, best first by weighted bm25.

    ``headings_only`` searches title and headings only. bm25 is computed for the
    ``cap`` newest matching lessons at most: a word found in every lesson of a huge
    course must not cost a ranking of all of them.
    """
    table, rank = (HEADINGS, HEADING_RANK) if headings_only else (DOCUMENTS, DOCUMENT_RANK)
    match = match_expression(query, mode)
    exclude = list(exclude)
    not_in = f" AND rowid NOT IN ({', '.join(['%s'] * len(exclude))})" if exclude else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {table} WHERE {table} MATCH %s "
            "ORDER BY rowid DESC LIMIT 1 OFFSET %s",
            [match, cap - 1],
        )
        oldest = cursor.fetchone()
        cursor.execute(
            f"SELECT rowid FROM {table} WHERE {table} MATCH %s AND rowid >= %s{not_in} "
            f"AND {_published(table)} AND rank MATCH '{rank}' ORDER BY rank LIMIT %s",
            [match, oldest[0] if oldest else 0, *exclude, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def details(query: Query, ids: list[int]) -> dict[int, dict[str, str]]:
    """For each lesson in ``ids``: its title with matches marked, and the section
    with the most of the query's words (see ``text.best_part``)."""
    if not ids:
        return {}
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid, highlight({DOCUMENTS}, 0, {MARKS}), "
            f"highlight({DOCUMENTS}, 1, {MARKS}), highlight({DOCUMENTS}, 2, {MARKS}), anchors "
            f"FROM {DOCUMENTS} WHERE {DOCUMENTS} MATCH %s AND rowid IN ({placeholders})",
            [match_expression(Query(query.terms + query.hints), "any"), *ids],
        )
        rows = cursor.fetchall()
    return {
        rowid: {"title": title, **best_part(headings, body, anchors, query)}
        for rowid, title, headings, body, anchors in rows
    }


def has_term(term: Term) -> bool:
    """Whether any lesson has ``term`` (as typed: a prefix if it is one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {DOCUMENTS} WHERE {DOCUMENTS} MATCH %s LIMIT 1", [_fts_string(term)]
        )
        return cursor.fetchone() is not None


def similar_terms(word: str) -> list[tuple[str, int]]:
    """Terms of the index (stems) that could be ``word`` mistyped, with the number
    of lessons each is in: same first letter, about the same length. The caller
    picks by edit distance (``text.closest_term``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT term, doc FROM {VOCABULARY} WHERE term >= %s AND term < %s "
            "AND length(term) BETWEEN %s AND %s",
            [word[0], chr(ord(word[0]) + 1), max(2, len(word) - 4), len(word) + 2],
        )
        return cursor.fetchall()


def snapshot() -> dict[str, list[tuple]]:
    """Everything the index holds, as plain data: two equal snapshots mean two
    equal indexes. FTS5's own integrity check runs first (it raises if the
    full-text index does not match the stored text)."""
    result: dict[str, list[tuple]] = {}
    with connection.cursor() as cursor:
        for table in (DOCUMENTS, HEADINGS):
            cursor.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")
            cursor.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid")
            result[table] = [tuple(row) for row in cursor.fetchall()]
            vocabulary = f"temp.{table}_vocab"
            cursor.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {vocabulary} "
                f"USING fts5vocab(main, {table}, instance)"
            )
            cursor.execute(f"SELECT term, doc, col, offset FROM {vocabulary} ORDER BY 1, 2, 3, 4")
            result[f"{table} terms"] = [tuple(row) for row in cursor.fetchall()]
    return result
