"""sitemap.xml and robots.txt: what search engines are told."""

from __future__ import annotations

import pytest

from tests.factories import make_section, make_tutorial

pytestmark = pytest.mark.django_db


def test_sitemap_lists_home_sections_and_published_lessons_only(client):
    section = make_section(slug="basics")
    lesson = make_tutorial(section=section, slug="first")
    make_tutorial(section=section, slug="draft", published=False)
    empty = make_section(slug="nothing-published-yet")
    make_tutorial(section=empty, slug="hidden", published=False)

    response = client.get("/sitemap.xml")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    body = response.content.decode()
    assert "<loc>http://testserver/</loc>" in body
    assert "<loc>http://testserver/basics/</loc>" in body
    assert "<loc>http://testserver/basics/first/</loc>" in body
    assert f"<lastmod>{lesson.updated_at.date().isoformat()}</lastmod>" in body
    assert "draft" not in body
    assert "nothing-published-yet" not in body


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_out_of_admin_and_search(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines
    assert "Disallow: /search/" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines
