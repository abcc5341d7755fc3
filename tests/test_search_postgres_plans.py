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


def plan(sql: str, params: dict) -> str:
    """The plan of ``sql`` as ``ranked_ids`` runs it, with sequential scans priced
    out (SET LOCAL enable_seqscan = off). A statement whose match cannot use the
    index (a tsquery from a CTE or a join) still shows a Seq Scan."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("text", ["receivers", "sig", "post_save bulk", "word7"])
def test_the_ranking_statement_matches_on_the_gin_index(course, text):
    from tutorials.search import postgres

    query = search_text.parse_query(text)
    params = {
        "config": postgres.CONFIG,
        "tsquery": postgres.tsquery_text(query, "all"),
        "key": query.key,
        "cap": postgres.RANK_CAP,
        "limit": 8,
    }
    explained = plan(postgres.RANKED_SQL, params)
    assert "Bitmap Index Scan on search_doc_vector_gin" in explained, explained
    assert "Seq Scan on tutorials_searchdocument" not in explained, explained


def test_search_runs_a_fixed_number_of_statements_on_postgresql(
    course, django_assert_max_num_queries
):
    # ranking (with the lessons' rows and its SET LOCAL, one round trip), best
    # sections, snippets: a fixed number, not one per hit.
    with django_assert_max_num_queries(3):
        results = search.search("receivers", limit=8)
    assert len(results.hits) == 8


def test_the_ranking_leaves_sequential_scans_allowed_afterwards(course):
    search.search("receivers")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan')")
        assert cursor.fetchone()[0] == "on"
