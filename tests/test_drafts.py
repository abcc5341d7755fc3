"""Draft preview: authors see a draft at its URL; nobody finds it anywhere else."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from tests.factories import make_section, make_tutorial
from tutorials import search

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def course():
    section = make_section(slug="basics", title="Basics")
    first = make_tutorial(section=section, slug="first", title="First lesson", order=1)
    draft = make_tutorial(
        section=section,
        slug="secret",
        title="Quokka draft",
        order=2,
        published=False,
        body_markdown="## Quokka\n\nQuokka text.\n\n```python run\nprint('hi')\n```\n",
    )
    last = make_tutorial(section=section, slug="last", title="Last lesson", order=3)
    return first, draft, last


def staff_client() -> Client:
    user = get_user_model().objects.create_user("author", password="pw", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def everywhere(client: Client) -> str:
    """Every listing a visitor can reach, concatenated."""
    pages = ["/", "/basics/", "/basics/first/", "/basics/last/", "/sitemap.xml",
             "/search/?q=quokka", "/search.json?q=quokka"]  # fmt: skip
    return "".join(client.get(url).content.decode() for url in pages)


@override_settings(DEBUG=False)
def test_anonymous_visitors_get_a_404_and_find_the_draft_nowhere(course):
    client = Client()
    assert client.get("/basics/secret/").status_code == 404
    assert "Quokka" not in everywhere(client) and "/basics/secret/" not in everywhere(client)
    assert search.search("quokka").hits == []


@override_settings(DEBUG=False)
def test_staff_see_the_draft_with_a_banner_never_cached(course):
    client = staff_client()
    response = client.get("/basics/secret/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Draft — not published." in html
    assert 'name="robots" content="noindex, nofollow"' in html
    assert "data-runnable" in html  # its samples run like any other
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    # Not in prev/next, roadmap, search or sitemap, even for staff.
    assert 'rel="next"' not in html and 'rel="prev"' not in html
    assert "/basics/secret/" not in everywhere(client)
    assert Client().get("/basics/secret/").status_code == 404  # nothing was cached


@override_settings(DEBUG=True)
def test_in_development_everyone_sees_drafts(course):
    response = Client().get("/basics/secret/")
    assert response.status_code == 200
    assert "Draft — not published." in response.content.decode()
    assert "/basics/secret/" not in everywhere(Client())


@override_settings(DEBUG=False)
def test_a_non_staff_user_gets_a_404(course):
    user = get_user_model().objects.create_user("reader", password="pw")
    client = Client()
    client.force_login(user)
    assert client.get("/basics/secret/").status_code == 404
