"""Pages: roadmap, lessons, prev/next across sections, 404, query counts."""

import re

import pytest
from django.templatetags.static import static

from tests.factories import make_section, make_tutorial

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    # Titles sort the other way from `order` (sections and lessons alike), so a page
    # ordered by title instead of `order` fails.
    first = make_section(title="Signals basics", slug="basics", order=1)
    second = make_section(title="Async practice", slug="practice", order=2)
    lessons = [
        make_tutorial(first, title="Home", slug="home", order=1),
        make_tutorial(first, title="Built-in", slug="built-in", order=2),
        make_tutorial(second, title="Async", slug="async", order=1),
    ]
    make_tutorial(first, title="Secret draft", slug="draft", order=3, published=False)
    return lessons


def next_url(html: str) -> str | None:
    match = re.search(r'<a class="prevnext-link next" href="([^"]+)" rel="next"', html)
    return match.group(1) if match else None


def prev_url(html: str) -> str | None:
    match = re.search(r'<a class="prevnext-link prev" href="([^"]+)" rel="prev"', html)
    return match.group(1) if match else None


def test_home_lists_every_section_and_lesson_in_order_with_summaries(client, course):
    html = client.get("/").content.decode()
    positions = [html.index(f">{title}</a>") for title in ("Home", "Built-in", "Async")]
    assert positions == sorted(positions)
    assert "What lesson" in html  # summaries
    assert html.index('href="/basics/"') < html.index('href="/practice/"')


def test_lesson_page_shows_breadcrumb_title_summary_body_and_toc(client, course):
    response = client.get("/basics/built-in/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<li class="breadcrumb-item"><a href="/basics/">Signals basics</a></li>' in html
    assert '<h1 id="lesson-title">Built-in</h1>' in html
    assert course[1].summary in html
    assert '<h2 id="part-one">' in html
    assert "On this page" in html
    assert 'href="#part-one"' in html


def test_lesson_shows_references(client):
    make_tutorial(
        make_section(slug="refs"),
        slug="with-refs",
        references=[
            {
                "title": "Signals docs",
                "url": "https://docs.djangoproject.com/en/5.2/topics/signals/",
            }
        ],
    )
    html = client.get("/refs/with-refs/").content.decode()
    assert 'href="https://docs.djangoproject.com/en/5.2/topics/signals/"' in html
    assert "Signals docs" in html


def test_prev_next_walk_every_published_lesson_once_in_roadmap_order(client, course):
    url, visited = "/basics/home/", []
    while url:
        html = client.get(url).content.decode()
        visited.append(url)
        url = next_url(html)
        assert len(visited) < 10
    assert visited == ["/basics/home/", "/basics/built-in/", "/practice/async/"]


def test_first_lesson_has_no_previous_and_last_has_no_next(client, course):
    first = client.get("/basics/home/").content.decode()
    last = client.get("/practice/async/").content.decode()
    assert prev_url(first) is None
    assert next_url(last) is None
    assert prev_url(last) == "/basics/built-in/"


def test_prev_next_links_appear_at_top_and_bottom(client, course):
    html = client.get("/basics/built-in/").content.decode()
    assert html.count('rel="next"') == 2
    assert html.count('rel="prev"') == 2


def test_sidebar_marks_the_current_lesson(client, course):
    html = client.get("/basics/built-in/").content.decode()
    current = re.findall(r'<a href="([^"]+)" aria-current="page"', html)
    assert current == ["/basics/built-in/"]


def test_unpublished_lesson_appears_nowhere(client, course):
    assert client.get("/basics/draft/").status_code == 404
    for url in ("/", "/basics/", "/basics/built-in/", "/basics/home/"):
        assert "Secret draft" not in client.get(url).content.decode()


def test_section_page_lists_its_lessons(client, course):
    html = client.get("/basics/").content.decode()
    assert "<h1>Signals basics</h1>" in html
    assert ">Home</a>" in html and ">Built-in</a>" in html
    assert ">Async</a>" in html  # in the sidebar roadmap only
    assert html.count(">Async</a>") == 1


def test_section_without_published_lessons_is_404_and_not_in_nav(client):
    make_section(title="Empty placeholder", slug="empty")
    assert client.get("/empty/").status_code == 404
    assert "Empty placeholder" not in client.get("/").content.decode()


def test_top_nav_lists_courses_from_content_sections(client, course):
    html = client.get("/").content.decode()
    nav = html[html.index("<header") : html.index("</header>")]
    assert ">Signals basics</a>" in nav and ">Async practice</a>" in nav and ">Roadmap</a>" in nav
    assert nav.index(">Signals basics</a>") < nav.index(">Async practice</a>")


def test_unknown_page_is_a_404_in_the_sites_look_with_a_link_home(client, course):
    response = client.get("/no/such/lesson/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert 'href="/"' in html
    assert "site-topbar" in html


def test_post_to_a_lesson_is_refused(client, course):
    assert client.post("/basics/home/").status_code in (403, 405)


@pytest.mark.parametrize("lesson_count", [3, 200])
def test_lesson_page_query_count_does_not_grow_with_the_course(
    client, lesson_count, django_assert_num_queries
):
    section = make_section(slug="big")
    for n in range(lesson_count):
        make_tutorial(section, slug=f"l{n}", order=n)
    with django_assert_num_queries(2):  # the roadmap, the lesson
        response = client.get("/big/l1/")
    assert response.status_code == 200


@pytest.mark.parametrize("lesson_count", [3, 200])
def test_home_page_is_one_query(client, lesson_count, django_assert_num_queries):
    section = make_section(slug="big")
    for n in range(lesson_count):
        make_tutorial(section, slug=f"l{n}", order=n)
    with django_assert_num_queries(1):  # the roadmap
        assert client.get("/").status_code == 200


def test_healthz_reports_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_signals_source_page_shows_the_sites_own_receivers(client):
    html = client.get("/source/signals/").content.decode()
    assert "tutorials/signals.py" in html
    assert '<div class="highlight">' in html


def test_bootstrap_comes_from_django_bootstrap5_tags_pointing_at_local_static(client, course):
    html = client.get("/").content.decode()
    # The names are hashed when collectstatic's manifest exists (tests/settings.py).
    css = f'<link href="{static("vendor/bootstrap/bootstrap.site.min.css")}"'
    # The offcanvas script (the roadmap menu on phones) is loaded by site.js on the
    # menu button's first press, from the URL the button carries.
    js = f'data-bootstrap-js="{static("vendor/bootstrap/bootstrap.offcanvas.min.js")}"'
    assert css in html and js in html, "Bootstrap must be served from static/"
    assert "bootstrap.offcanvas.min" not in html.replace(js, "")  # not loaded up front
    assert "cdn.jsdelivr.net" not in html


def test_favicon_ico_redirects_to_the_sites_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == static("img/favicon.svg")
    assert re.match(r"/static/img/favicon(\.[0-9a-f]{12})?\.svg$", response["Location"])


def test_lesson_deleted_while_the_page_is_built_is_a_404(client, course, monkeypatch):
    """Issue 12: the roadmap had the lesson, the row was gone: a 500 from .get()."""
    from tutorials import navigation

    stale = navigation.build_roadmap()
    monkeypatch.setattr("tutorials.views.roadmap", lambda request: stale)
    course[1].delete()
    assert client.get("/basics/built-in/").status_code == 404


def test_lesson_unpublished_while_the_page_is_built_is_a_404(client, course, monkeypatch):
    from tutorials import navigation

    stale = navigation.build_roadmap()
    monkeypatch.setattr("tutorials.views.roadmap", lambda request: stale)
    course[1].published = False
    course[1].save()
    assert client.get("/basics/built-in/").status_code == 404


def test_section_page_query_count(client, course, django_assert_num_queries):
    with django_assert_num_queries(1):  # the roadmap
        assert client.get("/basics/").status_code == 200


def test_unknown_lesson_costs_the_roadmap_and_the_redirect_lookup(
    client, course, django_assert_num_queries
):
    with django_assert_num_queries(2):
        assert client.get("/basics/nothing/").status_code == 404
