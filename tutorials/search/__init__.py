"""
Full-text search over the published lessons.

One interface, whichever database is in use::

    index_tutorial(tutorial_id)   rebuild one lesson's entry, or drop it if unpublished
    remove_tutorial(tutorial_id)  drop one lesson's entry
    rebuild()                     rebuild every entry from the Tutorial table
    search(text)                  the lessons that best match what a learner typed

On SQLite (the default) the entries live in FTS5 tables (``sqlite.py``); on
PostgreSQL in weighted tsvectors with GIN indexes (``postgres.py``). The
backend is chosen by ``connection.vendor``.

Entries are kept current by the ``post_save`` and ``post_delete`` receivers in
``tutorials/signals.py``; ``manage.py rebuild_search_index`` rebuilds them all. An
entry is made from the lesson's stored HTML (never from Markdown at request time),
split at each h2/h3 so a hit links to the heading its words are under.

Ranking: a lesson whose whole title is the query comes first; then lessons with
all the words (the last one as a prefix) in their title or headings, then those
with all the words anywhere, each group by weighted relevance (title > headings
> body). Only when no lesson has all the words do lessons with any of them count.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from types import ModuleType
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from .. import metrics
from ..models import SearchMiss, Section, Tutorial
from .text import (
    Highlighted,
    Query,
    Term,
    build_entry,
    closest_term,
    edit_distance,
    parse_query,
)

logger = logging.getLogger(__name__)

RESULTS_PER_PAGE = 20
SUGGESTIONS = 8  # results in the as-you-type list
# Matches ranked per group, the newest first: only binds for a word in more lessons
# than that. bm25 over 1,000 matches of two common words took 1.8 ms at 1,000 lessons
# (over 100: 0.2 ms); PostgreSQL's ts_rank ranks as many.
RANK_CAP = 100
MAX_MISSES = 5000  # rows in SearchMiss: past this, only known queries are counted
ENTRY_FIELDS = ("id", "title", "summary", "body_html", "published", "section_id")

__all__ = ["index_tutorial", "remove_tutorial", "rebuild", "search", "Hit", "Results"]


def backend() -> ModuleType:
    """The module that stores and queries the index for the database in use."""
    if connection.vendor == "postgresql":
        from . import postgres

        return postgres
    from . import sqlite

    return sqlite


# Keeping the index current ------------------------------------------------------


def index_tutorial(tutorial_id: int, *, indexed_by: str = "index_tutorial") -> bool:
    """Rebuild the entry of one lesson from its row, as committed.

    A lesson that is unpublished or gone is dropped from the index instead. The
    lesson's ``search_indexed_at``/``search_indexed_by`` are set with
    ``QuerySet.update()``, which sends no signal, so this never triggers itself.
    Return whether the lesson is in the index now.
    """
    with transaction.atomic():
        row = (
            Tutorial.objects.select_for_update()  # one writer per lesson (PostgreSQL)
            .filter(pk=tutorial_id)
            .only(*ENTRY_FIELDS)
            .first()
        )
        indexable = row is not None and row.published and row.section_id is not None
        backend().replace(tutorial_id, build_entry(row) if indexable else None)
        if row is not None:
            Tutorial.objects.filter(pk=tutorial_id).update(
                search_indexed_at=timezone.now() if indexable else None,
                search_indexed_by=indexed_by if indexable else "",
            )
    return indexable


def remove_tutorial(tutorial_id: int) -> None:
    """Drop one lesson's entry (nothing happens if it has none)."""
    backend().replace(tutorial_id, None)


@dataclass
class RebuildReport:
    indexed: int = 0
    removed: int = 0  # entries of lessons that are gone or unpublished
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.indexed} lessons indexed, {self.removed} stale entries removed, "
            f"{len(self.errors)} errors"
        )


def rebuild(*, indexed_by: str = "rebuild_search_index") -> RebuildReport:
    """Rebuild the whole index from the published lessons, in one transaction.

    Idempotent: running it twice leaves the same index. A lesson whose entry
    cannot be built is reported in ``errors`` and left out; the others are indexed.
    """
    report = RebuildReport()
    store = backend()
    with transaction.atomic():
        before = store.indexed_ids()
        entries, failed = [], []
        for tutorial in Tutorial.objects.published().only(*ENTRY_FIELDS).iterator(1000):
            try:
                entries.append(build_entry(tutorial))
            except Exception as exc:  # one broken lesson must not stop the rebuild
                failed.append(tutorial.pk)
                report.errors.append(f"lesson {tutorial.pk} ({tutorial.title}): {exc}")
        store.replace_all(entries)
        indexed = {entry.tutorial_id for entry in entries}
        Tutorial.objects.published().exclude(pk__in=failed).update(
            search_indexed_at=timezone.now(), search_indexed_by=indexed_by
        )
        Tutorial.objects.exclude(pk__in=Tutorial.objects.published()).update(
            search_indexed_at=None, search_indexed_by=""
        )
    report.indexed = len(indexed)
    report.removed = len(before - indexed)
    return report


def indexed_count() -> int:
    """How many lessons the index holds."""
    return backend().count()


def snapshot() -> dict[str, list[tuple]]:
    """The index's whole contents as plain data, to compare two states of it."""
    return backend().snapshot()


# Searching ----------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One lesson in the results, and the part of it the words were found in."""

    tutorial_id: int
    title: Highlighted
    section_title: str
    section_url: str
    url: str  # the lesson, with the heading's #anchor when the match is under one
    heading: Highlighted
    snippet: Highlighted

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title.segments,
            "section": self.section_title,
            "section_url": self.section_url,
            "url": self.url,
            "heading": self.heading.segments,
            "snippet": self.snippet.segments,
        }


@dataclass(frozen=True)
class Results:
    query: Query
    hits: list[Hit]
    matched: str = ""  # "all" (every word) or "any" (some of them); "" if nothing
    # "Did you mean …?": the query with its typos corrected, when the query as typed
    # found little (nothing, or not all its words) and this finds more. The hits
    # are then this suggestion's.
    suggestion: str = ""


@metrics.observe_search
def search(text: str, *, limit: int = RESULTS_PER_PAGE) -> Results:
    """The published lessons that best match ``text``, best first.

    Any text is accepted: words are taken from it (see ``text.parse_query``)
    and nothing else, so the result is a list, possibly empty, never an error.
    When that finds nothing, or only lessons with some of the words, words the
    index does not have are replaced by the nearest it has (``suggest``) and, if
    that finds more, its results are returned with ``suggestion`` set.
    """
    query = parse_query(text)
    if not query:
        return Results(query, [])
    results = _search(query, limit)
    if results.hits and results.matched == "all":
        return results
    corrected, replaced = suggest(query)
    if not replaced:
        return results
    better = _search(corrected, limit)
    if better.hits and (not results.hits or better.matched == "all"):
        wording = _suggestion_text(query.key, replaced, better.hits)
        return Results(query, better.hits, better.matched, suggestion=wording)
    return results


def suggest(query: Query) -> tuple[Query, dict[str, str]]:
    """``query`` with each single word the index lacks replaced by the nearest
    word (stem) of the index's own vocabulary, and ``{typed: stem}`` for those."""
    store = backend()
    terms, replaced = [], {}
    for term in query.terms:
        word = term.words[0]
        if len(term.words) == 1 and len(word) >= 3 and not store.has_term(term):
            nearest = closest_term(word, store.similar_terms(word))
            if nearest is not None:
                terms.append(Term((nearest,)))
                replaced[word] = nearest
                continue
        terms.append(term)
    return Query(tuple(terms), query.excluded, query.key), replaced


def _suggestion_text(key: str, replaced: dict[str, str], hits: list[Hit]) -> str:
    """The typed words with each replaced one spelt as the hits show it (the index
    holds stems: "receiv" is shown as the "receive" of the snippets)."""
    # Every word of the hits' text, identifiers split ("m2m_changed" -> "changed").
    marked = Counter(
        word
        for hit in hits
        for part in (hit.title, hit.heading, hit.snippet)
        for word in re.findall(r"[^\W_]+", str(part).casefold())
    )
    spelt = {}
    for typed, stem in replaced.items():
        # The spelling nearest what was typed ("changed", not "changes"), then the commonest.
        forms = [
            (edit_distance(typed, w), -n, w)
            for w, n in marked.items()
            if w.startswith(stem) and w.isalnum()
        ]
        spelt[typed] = min(forms)[2] if forms else stem
    return " ".join(spelt.get(word, word) for word in key.split())


def _search(query: Query, limit: int) -> Results:
    store = backend()
    if hasattr(store, "ranked_hits"):  # two round trips do it all (PostgreSQL)
        rows, matched, parts = store.ranked_hits(query, limit)
        lessons = {row[0]: row for row in rows}  # the lessons' rows come with it
        return Results(query, _hits(store, query, list(lessons), lessons, parts), matched)
    exact = store.exact_title(query)[:limit]
    ids, matched = list(exact), ""
    modes = ("all",) if len(query.terms) == 1 else ("all", "any")
    for mode in modes:
        for headings_only in (True, False):
            if len(ids) < limit:
                ids += store.ranked(query, mode, headings_only, limit - len(ids), RANK_CAP, ids)
        if ids:
            matched = mode
            break
    return Results(query, _hits(store, query, ids), matched)


def _hits(
    store: ModuleType,
    query: Query,
    ids: list[int],
    lessons: dict[int, tuple] | None = None,
    parts: dict[int, dict] | None = None,
) -> list[Hit]:
    """Hits for ``ids`` in that order, leaving out any lesson not published now.

    ``lessons``: the rows ``(id, title, slug, section slug, section title)``, and
    ``parts``: each lesson's details (see ``sqlite.details``), if the backend's
    ranking already read them (published lessons only)."""
    if not ids:
        return []
    if lessons is None:
        lessons = _lessons(ids)
    if parts is None:
        parts = store.details(query, [pk for pk in ids if pk in lessons])
    if len(query.terms) > 1:
        # A question ("why doesn't my post_save fire on bulk_create"): the lesson
        # with one section that has most of its words, in the heading best, first.
        covered = {pk: parts.get(pk, {}).get("covered", (0, 0)) for pk in ids}
        ids = sorted(ids, key=lambda pk: (-covered[pk][0], -covered[pk][1]))
    hits = []
    for pk in ids:
        if pk not in lessons:
            continue
        _, title, slug, section_slug, section_title = lessons[pk]
        part = parts.get(pk, {})
        section_url, url = _urls(section_slug, slug)
        if part.get("anchor"):
            url += "#" + part["anchor"]
        hits.append(
            Hit(
                tutorial_id=pk,
                title=Highlighted.from_marked(part.get("title") or title),
                section_title=section_title,
                section_url=section_url,
                url=url,
                heading=Highlighted.from_marked(part.get("heading") or ""),
                snippet=Highlighted.from_marked(part.get("snippet") or ""),
            )
        )
    return hits


def _lessons(ids: list[int]) -> dict[int, tuple]:
    """The published lessons among ``ids``: ``{id: (id, title, slug, section slug,
    section title)}``. Raw SQL: building the same query with the ORM cost more than
    running it (~0.2 ms a search)."""
    tutorials, sections = Tutorial._meta.db_table, Section._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.id, t.title, t.slug, s.slug, s.title FROM {tutorials} t "
            f"JOIN {sections} s ON s.id = t.section_id "
            f"WHERE t.published AND t.id IN ({', '.join(['%s'] * len(ids))})",
            ids,
        )
        return {row[0]: row for row in cursor.fetchall()}


@lru_cache(maxsize=4096)
def _urls(section_slug: str, slug: str) -> tuple[str, str]:
    """A section's and a lesson's URL (reverse() costs more than the query per hit)."""
    return (
        reverse("tutorials:section", kwargs={"section": section_slug}),
        reverse("tutorials:lesson", kwargs={"section": section_slug, "slug": slug}),
    )


def record_miss(query: Query) -> None:
    """Count a search that found nothing, for authors to see in admin.

    The query is stored normalized and cut to ``SearchMiss.QUERY_LENGTH``; once
    the table has ``MAX_MISSES`` rows only queries already in it are counted.
    """
    key = query.key[: SearchMiss.QUERY_LENGTH].strip()
    if not key:
        return
    now = timezone.now()
    if SearchMiss.objects.filter(query=key).update(count=F("count") + 1, last_seen=now):
        return
    if SearchMiss.objects.count() >= MAX_MISSES:
        logger.warning("SearchMiss is full (%d rows): not counting %r", MAX_MISSES, key)
        return
    try:
        with transaction.atomic():
            SearchMiss.objects.create(query=key, first_seen=now, last_seen=now)
    except IntegrityError:  # another request counted the same query first
        SearchMiss.objects.filter(query=key).update(count=F("count") + 1, last_seen=now)
