"""The search pages (/search/, /search.json), the top-bar box, the lesson footer and
the admin's search tools, on the database in use."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from django.urls import reverse

from tests.factories import make_section, make_tutorial
from tutorials import search
from tutorials.models import SearchMiss
from tutorials.search import views as search_views

pytestmark = pytest.mark.django_db

# Every one of these must answer with a page (possibly empty) or a form error.
BAD_QUERIES = [
    '"', '""', '"unclosed phrase', "'", "AND", "OR", "NOT", "signals AND", "OR signals",
    "NOT signals", "signals NOT", "a OR b NOT c", "*", "sig*", "*sig", "**", "^", "^signals",
    "(", ")", "(signals", "signals)", "((a) OR (b)", "NEAR(", "NEAR(signals receivers, 2)",
    "title:", "title:signals", "{title body}: signals", "body : x", "-x", "-", "--",
    "- -signals", "-signals -receivers", "\\", "\\\\signals\\", "\\\"", "signals\\",
    "'; DROP TABLE tutorials_tutorial; --", "1 OR 1=1", "x' UNION SELECT * FROM auth_user --",
    "%", "_", "%_%", ":*", "signals:*", "!", "!!signals", "&", "|", "<->", "a <-> b",
    "😀", "signals 🚀 receivers", "🚀" * 60, "\u202e\u200b", "ÄÖÜ ß", "日本語", "post_save",
    "x" * 10_000, "signals " * 1_300, "\x00", "sig\x00nals", "\x01\x02\x03", "\t\n\r",
]  # fmt: skip


@pytest.fixture(autouse=True)
def course():
    """A small published course, indexed; one unpublished lesson."""
    search.backend().replace_all([])
    section = make_section(title="Django Signals", slug="django-signals")
    for title, body in [
        ("Model save signals", "## post_save\n\nThe post_save signal is sent after save.\n"),
        ("Connecting receivers", "## Disconnecting\n\nCall disconnect() to stop.\n"),
        ("<script>alert(1)</script>", "Escaping matters: xss.\n"),
    ]:
        make_tutorial(section=section, title=title, body_markdown=body)
    make_tutorial(section=section, title="Draft", body_markdown="signals draft", published=False)
    search.rebuild()


def page(client, q, **extra):
    return client.get(reverse("tutorials:search"), {"q": q, **extra})


def suggestions(client, q):
    return client.get(reverse("tutorials:search-json"), {"q": q})


def direct(view, q):
    """Call a search view without the middleware (which refuses URLs over 2 kB)."""
    return view(RequestFactory().get("/search/", {"q": q}))


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_any_query_gets_a_page_or_a_form_error_never_a_server_error(client, query):
    for response in (page(client, query), direct(search_views.search_page, query)):
        if response.status_code == 414:  # RequestLimitsMiddleware: URL over 2 kB
            assert b"The address is longer than" in response.content
            continue
        assert response.status_code in (200, 400)
        if response.status_code == 400:
            assert 'role="alert"' in response.content.decode()
    for response in (suggestions(client, query), direct(search_views.search_json, query)):
        if response.status_code == 414:
            continue
        assert response.status_code in (200, 400)
        data = json.loads(response.content)
        assert isinstance(data["results"], list)
        if response.status_code == 400:
            assert data["error"]


def test_a_query_longer_than_the_box_allows_is_a_clear_form_error(client):
    response = page(client, "x" * 1_000)
    assert response.status_code == 400
    assert "Search for at most 200 characters (this search has 1000)." in response.content.decode()
    assert suggestions(client, "x" * 1_000).json()["error"].startswith("Search for at most 200")


def test_ten_kilobytes_of_query_are_refused_clearly_before_and_by_the_view(client):
    response = page(client, "x" * 10_000)
    assert response.status_code == 414  # the site's request limits, before any view
    assert b"The address is longer than 2048 characters." in response.content
    response = direct(search_views.search_page, "x" * 10_000)
    assert response.status_code == 400
    assert "(this search has 10000)" in response.content.decode()


def test_a_nul_byte_is_a_clear_form_error(client):
    response = page(client, "sig\x00nals")
    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()


def test_results_page_links_each_hit_to_its_heading_with_section_and_marked_snippet(client):
    response = page(client, "disconnect")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<a href="/django-signals/' in html  # the section, as breadcrumb
    assert 'href="/django-signals/' in html and '/#disconnecting">' in html
    assert "Connecting receivers" in html
    assert "<mark>disconnect</mark>" in html
    assert "1 lesson" in html


def test_results_page_works_without_javascript_and_can_be_shared(client):
    html = page(client, "post_save").content.decode()
    assert 'role="search" aria-labelledby="search-title" action="/search/" method="get">' in html
    assert 'value="post_save"' in html
    assert "Model save signals" in html
    assert '<meta name="robots" content="noindex">' in html


def test_no_results_says_so_suggests_the_roadmap_and_counts_the_miss(client):
    html = page(client, "Kubernetes  operators").content.decode()
    assert "No lessons found for “Kubernetes  operators”." in html
    assert 'href="/#roadmap"' in html
    assert 'href="/django-signals/"' in html  # the sections, to browse
    assert SearchMiss.objects.get().query == "kubernetes operators"
    page(client, "kubernetes operators")
    assert SearchMiss.objects.get().count == 2


def test_suggestions_do_not_count_misses(client):
    suggestions(client, "kubernetes")
    assert not SearchMiss.objects.exists()


def test_a_query_of_only_stop_words_says_there_is_nothing_to_search_for(client):
    html = page(client, "the").content.decode()
    assert "has no words to search for" in html
    assert not SearchMiss.objects.exists()


def test_an_empty_query_shows_the_form_only(client):
    response = page(client, "")
    assert response.status_code == 200
    assert "No lessons found" not in response.content.decode()


def test_unpublished_lessons_appear_nowhere(client):
    assert "Draft" not in page(client, "draft").content.decode()
    assert suggestions(client, "draft").json()["results"] == []
    assert "Draft" not in page(client, "signals").content.decode()


def test_a_lesson_titled_script_is_shown_as_text_on_the_page_and_in_json(client):
    html = page(client, "xss").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    [hit] = suggestions(client, "xss").json()["results"]
    assert hit["title"] == [["<script>alert(1)</script>", False]]  # text, for textContent


def test_suggestions_rank_like_the_results_page(client):
    results = suggestions(client, "signals").json()
    assert results["matched"] == "all"
    urls = [hit["url"] for hit in results["results"]]
    page_urls = [hit.url for hit in search.search("signals").hits]
    assert urls and urls == page_urls[: len(urls)]
    first = results["results"][0]
    assert set(first) == {"title", "section", "section_url", "url", "heading", "snippet"}
    assert any(marked for _, marked in first["title"])


def test_search_pages_only_answer_get_and_head(client):
    assert client.post(reverse("tutorials:search"), {"q": "x"}).status_code == 405
    assert client.post(reverse("tutorials:search-json"), {"q": "x"}).status_code == 405


@pytest.mark.parametrize("url", ["/", "/django-signals/", "/search/?q=signals"])
def test_every_page_has_the_search_box_as_a_combobox(client, url):
    html = client.get(url).content.decode()
    assert 'role="search" aria-label="Quick search" action="/search/" method="get"' in html
    assert 'data-search-endpoint="/search.json"' in html
    assert 'role="combobox"' in html
    assert 'aria-controls="site-search-listbox"' in html
    assert 'id="site-search-listbox" class="site-search-listbox" role="listbox"' in html


def test_the_lesson_footer_shows_the_receiver_that_indexed_it_and_links_to_the_lesson(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tutorial = make_tutorial(title="Footer", body_markdown="text")
    html = client.get(tutorial.get_absolute_url()).content.decode()
    assert "Search entry rebuilt" in html
    assert "by <code>on_tutorial_saved</code>, this site's own <code>post_save</code>" in html
    assert 'href="/signals-in-practice/under-the-hood/">How it works</a>' in html
    assert 'href="/source/signals/">' in html


def test_admin_lists_searches_that_found_nothing(admin_client):
    SearchMiss.objects.create(query="bulk update signals", count=3)
    response = admin_client.get(reverse("admin:tutorials_searchmiss_changelist"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "bulk update signals" in html
    assert "Add search that found nothing" not in html


def test_admin_changelist_shows_how_many_lessons_are_indexed(admin_client):
    html = admin_client.get(reverse("admin:tutorials_tutorial_changelist")).content.decode()
    assert "<h2>Search index: 3 of 3 published lessons indexed</h2>" in html


def test_admin_action_rebuilds_the_whole_index(admin_client):
    search.backend().replace_all([])
    response = admin_client.post(
        reverse("admin:tutorials_tutorial_changelist"),
        {"action": "rebuild_search_index", "_selected_action": [make_tutorial().pk]},
        follow=True,
    )
    assert "Search index rebuilt: 4 lessons indexed, 0 stale entries removed, 0 errors." in (
        response.content.decode()
    )
    assert search.indexed_count() == 4
