"""The search index and its ranking (tutorials/search.py), on the database in use:
SQLite FTS5 by default, PostgreSQL under `make test-postgres`."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import post_save
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_section, make_tutorial
from tutorials import search
from tutorials.models import SearchMiss, Tutorial

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_index():
    """Start from an empty index: a transactional test elsewhere may leave rows in the
    FTS5 tables, which Django's flush does not know about."""
    search.backend().replace_all([])


def indexed(**fields) -> Tutorial:
    """A lesson, indexed as its post_save receiver would after the commit."""
    tutorial = make_tutorial(**fields)
    search.index_tutorial(tutorial.pk)
    return tutorial


def titles(text: str, **kwargs) -> list[str]:
    return [str(hit.title) for hit in search.search(text, **kwargs).hits]


def test_search_uses_the_backend_of_the_database_in_use():
    expected = "postgres" if connection.vendor == "postgresql" else "sqlite"
    assert search.backend().__name__ == f"tutorials.search.{expected}"


def test_lessons_with_all_the_words_come_before_any_and_exclude_the_rest():
    indexed(title="Both", body_markdown="alpha and beta together")
    indexed(title="Alpha only", body_markdown="alpha alone")
    results = search.search("alpha beta")
    assert [str(h.title) for h in results.hits] == ["Both"]
    assert results.matched == "all"


def test_when_no_lesson_has_all_the_words_any_word_matches():
    indexed(title="First", body_markdown="alpha")
    indexed(title="Second", body_markdown="beta")
    results = search.search("alpha beta gamma")
    assert sorted(str(h.title) for h in results.hits) == ["First", "Second"]
    assert results.matched == "any"


def test_the_last_word_matches_as_a_prefix():
    indexed(title="Dispatch", body_markdown="How signals reach receivers.")
    assert titles("sig") == ["Dispatch"]
    assert titles("receivers sig") == ["Dispatch"]
    # Only the last word is a prefix: "sig" alone is not a word here, so no lesson has
    # all the words and the search falls back to any of them.
    assert search.search("sig receivers").matched == "any"


def test_english_stemming_finds_other_forms_of_a_word():
    indexed(title="Persisting", body_markdown="Call save on the instance.")
    assert titles("saving") == ["Persisting"]
    assert titles("saved instances") == ["Persisting"]


def test_title_outweighs_headings_which_outweigh_body_text():
    indexed(title="Body", body_markdown="Intro.\n\n## Other\n\nThe zebra lives here.\n")
    indexed(title="Heading", body_markdown="Intro.\n\n## The zebra\n\nText.\n")
    indexed(title="Zebra title", body_markdown="Intro.\n\n## Other\n\nText.\n")
    assert titles("zebra") == ["Zebra title", "Heading", "Body"]


def test_an_exact_title_match_comes_first():
    # Without the exact-title rule, bm25/ts_rank put "Signals signals" first.
    indexed(title="Signals signals", body_markdown="## Signals\n\nsignals, signals.\n")
    exact = indexed(
        title="Signals",
        body_markdown="A lesson about many other things, with a great many more words in it, "
        "so that it is long and its one title word weighs less than the other lesson's.",
    )
    assert titles("signals")[0] == exact.title
    assert titles("SIGNALS!")[0] == exact.title


def test_a_hit_links_to_the_heading_its_words_are_under():
    tutorial = indexed(
        title="Receivers",
        body_markdown="Intro text.\n\n## Connecting\n\nUse connect.\n\n## Disconnecting\n\n"
        "Call disconnect with the dispatch_uid.\n",
    )
    hit = search.search("dispatch_uid").hits[0]
    assert hit.url == tutorial.get_absolute_url() + "#disconnecting"
    assert str(hit.heading) == "Disconnecting"
    assert hit.heading.matched == [] and "dispatch_uid" in str(hit.snippet)
    intro = search.search("intro").hits[0]
    assert intro.url == tutorial.get_absolute_url()  # no heading: the lesson's top


def test_hits_show_the_section_as_breadcrumb_and_mark_the_matched_words():
    section = make_section(title="Signals in Practice", slug="signals-in-practice")
    indexed(section=section, title="Pitfalls", body_markdown="## Bulk\n\nbulk_create sends none.")
    hit = search.search("bulk_create").hits[0]
    assert hit.section_title == "Signals in Practice"
    assert hit.section_url == "/signals-in-practice/"
    assert "<mark>" in hit.snippet.html
    assert any("bulk" in word.lower() for word in hit.snippet.matched)


def test_a_match_in_the_title_only_shows_the_introduction_as_snippet():
    indexed(title="Quokka", summary="What it covers.", body_markdown="Plain text.\n")
    hit = search.search("quokka").hits[0]
    assert hit.title.matched == ["Quokka"]
    assert str(hit.snippet).startswith("What it covers.")


def test_unpublished_lessons_are_never_indexed_or_found():
    hidden = indexed(title="Secret draft", body_markdown="platypus", published=False)
    assert search.search("platypus").hits == []
    assert search.search("secret draft").hits == []
    assert search.indexed_count() == 0
    hidden.refresh_from_db()
    assert hidden.search_indexed_at is None


def test_unpublishing_drops_the_entry_and_publishing_restores_it():
    tutorial = indexed(title="Wombat", body_markdown="wombat")
    tutorial.published = False
    tutorial.save()
    search.index_tutorial(tutorial.pk)
    assert titles("wombat") == []
    tutorial.published = True
    tutorial.save()
    search.index_tutorial(tutorial.pk)
    assert titles("wombat") == ["Wombat"]


def test_a_lesson_unpublished_without_a_signal_is_still_hidden_from_results():
    tutorial = indexed(title="Echidna", body_markdown="echidna")
    Tutorial.objects.filter(pk=tutorial.pk).update(published=False)  # sends no post_save
    assert search.indexed_count() == 1  # the stale entry is still there...
    assert search.search("echidna").hits == []  # ...but results check the lesson


def test_stale_entries_do_not_take_the_places_of_published_lessons():
    stale = indexed(title="Wallaby", body_markdown="wallaby")  # ranks first
    kept = indexed(title="Marsupials", body_markdown="The wallaby hops.")
    Tutorial.objects.filter(pk=stale.pk).update(published=False)  # no signal
    assert [hit.tutorial_id for hit in search.search("wallaby", limit=1).hits] == [kept.pk]


def test_a_lesson_titled_script_is_shown_as_text():
    indexed(title="<script>alert(1)</script>", body_markdown="A `<b>` tag and xss.")
    hit = search.search("xss").hits[0]
    assert "<script>" not in hit.title.html
    assert hit.title.html == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert "&lt;b&gt;" in hit.snippet.html
    assert "<mark>xss</mark>" in hit.snippet.html


def test_index_tutorial_updates_only_that_lesson():
    first = indexed(title="First", body_markdown="koala")
    second = indexed(title="Second", body_markdown="koala")
    Tutorial.objects.filter(pk=second.pk).update(title="Renamed", body_html="<p>dingo</p>")
    first.body_markdown = "kangaroo"
    first.save()
    search.index_tutorial(first.pk)
    assert titles("kangaroo") == ["First"]
    assert titles("koala") == ["Second"]  # second's entry was not rebuilt
    assert titles("dingo") == []


def test_index_tutorial_records_when_and_by_whom_without_sending_post_save():
    tutorial = make_tutorial()
    before = Tutorial.objects.values_list("updated_at", flat=True).get(pk=tutorial.pk)
    sent = []
    post_save.connect(lambda **kw: sent.append(kw), sender=Tutorial, weak=False, dispatch_uid="t")
    try:
        assert search.index_tutorial(tutorial.pk, indexed_by="on_tutorial_saved") is True
    finally:
        post_save.disconnect(sender=Tutorial, dispatch_uid="t")
    tutorial.refresh_from_db()
    assert tutorial.search_indexed_by == "on_tutorial_saved"
    assert tutorial.search_indexed_at is not None
    assert tutorial.updated_at == before
    assert sent == []  # QuerySet.update(): no recursion through post_save


def test_remove_tutorial_drops_its_entry():
    tutorial = indexed(title="Bilby", body_markdown="bilby")
    search.remove_tutorial(tutorial.pk)
    assert search.search("bilby").hits == []
    assert search.indexed_count() == 0


def test_the_index_is_built_from_stored_html_not_from_markdown():
    tutorial = make_tutorial(title="Stored", body_markdown="numbat")
    Tutorial.objects.filter(pk=tutorial.pk).update(body_markdown="changed, not rendered")
    search.index_tutorial(tutorial.pk)
    assert titles("numbat") == ["Stored"]
    assert titles("rendered") == []


def test_rebuild_indexes_published_lessons_and_removes_stale_entries():
    kept = indexed(title="Kept", body_markdown="quoll")
    stale = indexed(title="Stale", body_markdown="quoll")
    Tutorial.objects.filter(pk=stale.pk).update(published=False)
    make_tutorial(title="Never indexed", body_markdown="quoll")  # no index_tutorial call
    report = search.rebuild()
    assert (report.indexed, report.removed, report.errors) == (2, 1, [])
    assert sorted(titles("quoll")) == ["Kept", "Never indexed"]
    kept.refresh_from_db()
    assert kept.search_indexed_by == "rebuild_search_index"


def test_rebuild_is_idempotent():
    for n in range(3):
        indexed(title=f"Lesson {n}", body_markdown=f"## Part\n\nword{n} text\n")
    search.rebuild()
    first = search.snapshot()
    report = search.rebuild()
    assert search.snapshot() == first
    assert (report.indexed, report.removed) == (3, 0)


def test_incremental_updates_leave_the_same_index_as_a_rebuild():
    one = indexed(title="One", body_markdown="## A\n\nalpha\n\n### B\n\nbeta\n")
    indexed(title="Two", body_markdown="gamma")
    one.body_markdown = "## C\n\ndelta\n"
    one.save()
    search.index_tutorial(one.pk)
    incremental = search.snapshot()
    search.rebuild()
    assert search.snapshot() == incremental


def test_rebuild_command_reports_counts_and_can_run_twice(capsys):
    indexed(title="A", body_markdown="a")
    make_tutorial(title="B", body_markdown="b")
    call_command("rebuild_search_index")
    first_snapshot = search.snapshot()
    call_command("rebuild_search_index")
    output = capsys.readouterr().out.splitlines()
    assert output[0] == output[1]
    assert "2 lessons indexed, 0 stale entries removed, 0 errors" in output[1]
    assert search.snapshot() == first_snapshot


def test_rebuild_command_is_quiet_at_verbosity_zero(capsys):
    call_command("rebuild_search_index", verbosity=0)
    assert capsys.readouterr().out == ""


def test_a_miss_is_counted_normalized_and_cut_to_length():
    search.record_miss(search.search("  Bulk_Update,   SIGNALS! ").query)
    search.record_miss(search.search("bulk_update signals").query)
    miss = SearchMiss.objects.get()
    assert (miss.query, miss.count) == ("bulk_update signals", 2)
    assert miss.last_seen >= miss.first_seen
    search.record_miss(search.search("word " * 100).query)
    assert max(len(q) for q in SearchMiss.objects.values_list("query", flat=True)) <= 100


def test_misses_stop_adding_rows_at_the_cap_but_still_count_known_ones(monkeypatch):
    monkeypatch.setattr(search, "MAX_MISSES", 2)
    for text in ["one", "two", "three", "four", "one"]:
        search.record_miss(search.search(text).query)
    assert dict(SearchMiss.objects.values_list("query", "count")) == {"one": 2, "two": 1}


def test_a_query_without_words_is_not_counted_as_a_miss():
    search.record_miss(search.search("\\ * ^").query)
    assert not SearchMiss.objects.exists()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=300))
def test_any_text_searches_without_error(text):
    indexed(title="Anything", body_markdown="signals and receivers")
    results = search.search(text)
    assert isinstance(results.hits, list)
