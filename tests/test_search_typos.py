"""Typos, identifier parts and questions, on the real course, on the database in
use (SQLite here; PostgreSQL in `make test-postgres`): "Did you mean …?" comes
from the index's own vocabulary (FTS5 vocab / pg_trgm), ``save`` finds post_save,
and a learner's question finds the section that answers it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

from tutorials import content, search

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    content.sync(Path(settings.CONTENT_DIR))
    search.rebuild()


def first(text: str) -> search.Hit:
    results = search.search(text)
    assert results.hits, f"nothing found for {text!r}"
    return results.hits[0]


@pytest.mark.parametrize(
    ("typed", "meant", "lesson"),
    [
        ("recieve", "receive", None),
        ("m2m chnaged", "m2m chang", "/django-signals/m2m-changed/"),
        ("dispach uid", "dispatch uid", None),
    ],
)
def test_a_typo_gets_did_you_mean_and_its_results(course, typed, meant, lesson):
    results = search.search(typed)
    assert results.suggestion.startswith(meant), results.suggestion
    assert results.hits
    if lesson:
        assert results.hits[0].url.startswith(lesson)
    # The suggestion is a real query: searched as typed, it finds the same lessons.
    again = search.search(results.suggestion)
    assert not again.suggestion
    assert {h.tutorial_id for h in again.hits} & {h.tutorial_id for h in results.hits}


def test_dispatch_uid_typo_finds_the_lesson_that_explains_dispatch_uid(course):
    results = search.search("dispach uid")
    assert results.suggestion == "dispatch uid"
    # Several lessons use dispatch_uid now (testing, debugging); the one that explains
    # it is among the first three.
    top = [hit.url for hit in results.hits[:3]]
    assert any(url.startswith("/django-signals/connecting-receivers/") for url in top), top


def test_the_suggestion_is_spelt_as_typed_not_as_the_index_stems_it(course):
    assert search.search("m2m chnaged").suggestion == "m2m changed"


def test_a_query_that_matches_gets_no_suggestion(course):
    results = search.search("receiver")
    assert results.hits and results.suggestion == ""


def test_nonsense_gets_no_suggestion_and_no_results(course):
    results = search.search("qqxzzv")
    assert results.hits == [] and results.suggestion == ""


def test_the_as_you_type_list_offers_the_same_suggestion(client, course):
    response = client.get("/search.json", {"q": "m2m chnaged"})
    data = json.loads(response.content)
    assert data["suggestion"].startswith("m2m chang")
    assert data["results"][0]["url"].startswith("/django-signals/m2m-changed/")


def test_the_results_page_says_did_you_mean(client, course):
    page = client.get("/search/", {"q": "recieve"}).content.decode()
    assert "Did you mean" in page and "receive" in page


@pytest.mark.parametrize(
    ("part", "identifier"), [("save", "post_save"), ("changed", "m2m_changed")]
)
def test_a_part_of_an_identifier_finds_the_identifier(course, part, identifier):
    results = search.search(part)
    assert results.suggestion == ""
    found = search.search(identifier)
    assert {h.tutorial_id for h in found.hits} <= {h.tutorial_id for h in results.hits}


@pytest.mark.parametrize("spelling", ["bulk create", "bulkcreate", "bulk_create"])
def test_bulk_create_is_found_however_it_is_spelt(course, spelling):
    hit = first(spelling)
    assert hit.url.startswith("/signals-in-practice/pitfalls/")


def test_a_question_finds_the_section_that_answers_it(course):
    hit = first("why doesn't my post_save fire on bulk_create")
    # Pitfalls › Bulk operations, or the prediction right under it that asks exactly this.
    assert hit.url in {
        "/signals-in-practice/pitfalls/#bulk-operations-send-no-save-signals",
        "/signals-in-practice/pitfalls/#predict-bulk_create-and-post_save",
    }, hit.url


def test_signal_not_firing_finds_receivers_that_never_run(course):
    hit = first("signal not firing")
    assert hit.url == "/signals-in-practice/pitfalls/#receivers-that-never-run"
