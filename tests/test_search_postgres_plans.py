"""The query plans behind PostgreSQL search speed: the match runs on the GIN index,
however the planner estimates a prefix. Runs in `make test-postgres` (the plans
are PostgreSQL's; on SQLite every test here is reported as skipped)."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import make_section, make_tutorial
from tutorials import search
from tutorials.search import text as search_text

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,  # run by make test-postgres; `make test` deselects the marker
]


@pytest.fixture(autouse=True)
def _on_postgresql():
    if connection.vendor != "postgresql":
        pytest.fail("these plans are PostgreSQL's: run them with make test-postgres")


@pytest.fixture
def course():
    section = make_section(title="Signals", slug="signals")
    for n in range(60):
        make_tutorial(
            section,
            title=f"Lesson {n}",
            slug=f"lesson-{n}",
            order=n,
            body_markdown=f"## Part {n}\n\nreceivers signal post_save word{n} bulk_create\n",
        )
    search.rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def plan(sql: str, params: dict, *, analyze: bool = False) -> str:
    """The plan of ``sql`` as ``ranked_ids`` runs it, with sequential scans priced
    out (SET LOCAL enable_seqscan = off). A statement whose match cannot use the
    index (a tsquery from a CTE or a join) still shows a Seq Scan."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(("EXPLAIN (ANALYZE) " if analyze else "EXPLAIN ") + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def ranked_plan(text: str, *, analyze: bool = False) -> str:
    from tutorials.search import postgres

    query = search_text.parse_query(text)
    params = postgres.ranked_params(query, "all", limit=8)
    return plan(postgres.ranked_sql(query, postgres.RANKED_SQL), params, analyze=analyze)


@pytest.mark.parametrize("text", ["receivers", "sig", "post_save bulk", "word7", "bulk_create"])
def test_the_ranking_statement_matches_on_the_gin_indexes(course, text):
    explained = ranked_plan(text)
    assert "Bitmap Index Scan on search_doc_head_gin" in explained, explained
    assert "Bitmap Index Scan on search_doc_vector_gin" in explained, explained
    assert "Seq Scan on tutorials_searchdocument" not in explained, explained
    # Never the primary key walked backwards, testing each lesson's vector in turn.
    assert "Index Scan Backward" not in explained, explained


def test_an_identifier_is_matched_as_one_lexeme_not_a_phrase_to_recheck(course):
    explained = ranked_plan("post_save")
    conditions = [line for line in explained.splitlines() if "Index Cond" in line]
    whole_lesson = [line for line in conditions if "postsav" in line]
    assert whole_lesson, explained
    assert all("<->" not in line for line in whole_lesson), explained


def test_a_word_in_enough_titles_never_reads_the_whole_lesson_vectors(course):
    # "Lesson" is in every title: the title/headings tier fills the 8 results, and
    # the whole-lesson tier after it in the UNION ALL is never run.
    explained = ranked_plan("lesson", analyze=True)
    vector_scan = [line for line in explained.splitlines() if "search_doc_vector_gin" in line]
    assert vector_scan and all("never executed" in line for line in vector_scan), explained


def test_the_gin_indexes_keep_no_pending_list(course):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN "
            "('search_doc_head_gin', 'search_doc_vector_gin', 'search_term_trgm')"
        )
        options = dict(cursor.fetchall())
    assert options == dict.fromkeys(options, ["fastupdate=off"]) and len(options) == 3


def test_a_sections_vector_stays_in_its_row_and_its_text_out_of_it():
    # Each hit's sections are tested once per term: no detour to the TOAST table for
    # the vector; the text, read for the one section shown, goes there instead.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attstorage FROM pg_attribute WHERE attrelid = "
            "'tutorials_searchsection'::regclass AND attname IN ('body', 'search_vector')"
        )
        assert dict(cursor.fetchall()) == {"body": "e", "search_vector": "m"}


def test_a_lessons_row_stays_small_however_long_the_lesson():
    # Every matching lesson's row is read for its id: the text and vectors live out
    # of line (TOAST), so 40 lessons of ~900 words each fit in one 8 kB page
    # (each row ~2 kB otherwise: some 10 pages).
    section = make_section(title="Long", slug="long")
    for n in range(40):
        words = " ".join(f"w{n}x{i}" for i in range(900))
        make_tutorial(section, title=f"Long {n}", slug=f"long-{n}", body_markdown=words)
    search.rebuild()
    with connection.cursor() as cursor:
        # The pages the rows are on (their ctid is (page, item)).
        cursor.execute(
            "SELECT count(DISTINCT (ctid::text::point)[0]), count(*) FROM tutorials_searchdocument"
        )
        pages, rows = cursor.fetchone()
    assert rows == 40 and pages <= 2, pages  # two: the rows may start near a page's end


def test_search_runs_a_fixed_number_of_statements_on_postgresql(
    course, django_assert_max_num_queries
):
    # The ranking with the lessons' rows, their sections' terms and the words to
    # mark (one round trip, with its SET LOCAL), then the chosen sections' text: a
    # fixed number, not one per hit.
    with django_assert_max_num_queries(2):
        results = search.search("receivers", limit=8)
    assert len(results.hits) == 8


def test_the_ranking_leaves_sequential_scans_allowed_afterwards(course):
    search.search("receivers")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan')")
        assert cursor.fetchone()[0] == "on"


def test_the_typo_lookup_leaves_the_trigram_threshold_as_it_was(course):
    with connection.cursor() as cursor:
        cursor.execute("SHOW pg_trgm.similarity_threshold")
        before = cursor.fetchone()[0]
        results = search.search("recievers")
        assert results.suggestion == "receivers"
        cursor.execute("SHOW pg_trgm.similarity_threshold")
        assert cursor.fetchone()[0] == before
