"""Admin: pages load for staff, preview, publish/unpublish actions."""

import pytest
from django.contrib.auth.models import User

from tests.factories import make_section, make_tutorial
from tutorials.models import Tutorial

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = User.objects.create_superuser("admin", "admin@example.com", "a-long-password-123")
    client.force_login(user)
    return client


@pytest.fixture
def lesson():
    return make_tutorial(make_section(slug="basics"), title="Home", slug="home",
                         body_markdown="## Intro\n\n```python\nx = 1\n```\n")  # fmt: skip


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/tutorials/tutorial/",
        "/admin/tutorials/tutorial/?published__exact=1",
        "/admin/tutorials/tutorial/?q=Home",
        "/admin/tutorials/tutorial/add/",
        "/admin/tutorials/section/",
        "/admin/tutorials/section/add/",
    ],
)
def test_admin_pages_load_for_staff(staff_client, lesson, url):
    assert staff_client.get(url).status_code == 200


def test_admin_requires_login(client, lesson):
    response = client.get("/admin/tutorials/tutorial/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_changelist_shows_section_order_published_and_updated(staff_client, lesson):
    html = staff_client.get("/admin/tutorials/tutorial/").content.decode()
    for column in ("column-section", "column-order", "column-published", "column-updated_at"):
        assert column in html


def test_change_form_has_rendered_preview_view_on_site_and_slug_prepopulation(staff_client, lesson):
    html = staff_client.get(f"/admin/tutorials/tutorial/{lesson.pk}/change/").content.decode()
    assert '<div class="lesson-preview"><h2 id="intro">' in html
    assert '<span class="n">x</span>' in html  # highlighted code in the preview
    assert "View on site" in html
    assert "data-prepopulated-fields=" in html and "&quot;id&quot;: &quot;#id_slug&quot;" in html


def test_unpublish_and_publish_actions(staff_client, lesson):
    url = "/admin/tutorials/tutorial/"
    staff_client.post(url, {"action": "unpublish", "_selected_action": [lesson.pk]})
    assert Tutorial.objects.get(pk=lesson.pk).published is False
    staff_client.post(url, {"action": "publish", "_selected_action": [lesson.pk]})
    assert Tutorial.objects.get(pk=lesson.pk).published is True


def test_admin_edit_renders_the_new_body(staff_client, lesson):
    url = f"/admin/tutorials/tutorial/{lesson.pk}/change/"
    data = {
        "section": lesson.section_id,
        "title": "Home",
        "slug": "home",
        "order": 1,
        "summary": "s",
        "published": "on",
        "body_markdown": "## Changed heading\n",
        "references": "[]",
    }
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    lesson.refresh_from_db()
    assert '<h2 id="changed-heading">' in lesson.body_html


def test_change_form_loads_the_pygments_styles_for_the_preview(staff_client, lesson):
    html = staff_client.get(f"/admin/tutorials/tutorial/{lesson.pk}/change/").content.decode()
    assert "/static/css/pygments." in html


def form_data(lesson, **changes):
    data = {
        "section": lesson.section_id,
        "title": lesson.title,
        "slug": lesson.slug,
        "order": lesson.order,
        "summary": "s",
        "published": "on",
        "body_markdown": lesson.body_markdown,
        "references": "[]",
    }
    return {**data, **changes}


def test_changing_a_slug_in_admin_leaves_a_redirect_and_fixes_links(
    staff_client, client, django_capture_on_commit_callbacks
):
    section = make_section(slug="basics")
    target = make_tutorial(section, slug="custom", source_path="basics/custom.md")
    linker = make_tutorial(
        section, slug="home", source_path="basics/home.md", body_markdown="[c](custom.md)\n"
    )
    url = f"/admin/tutorials/tutorial/{target.pk}/change/"
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, form_data(target, slug="custom-signals"))
    assert response.status_code == 302
    assert 'href="/basics/custom-signals/"' in Tutorial.objects.get(pk=linker.pk).body_html
    moved = client.get("/basics/custom/")
    assert (moved.status_code, moved["Location"]) == (301, "/basics/custom-signals/")
    listing = staff_client.get("/admin/tutorials/redirect/").content.decode()
    assert "/basics/custom/" in listing


def test_admin_refuses_a_link_from_a_published_lesson_to_a_draft(staff_client):
    section = make_section(slug="basics")
    make_tutorial(section, slug="draft", source_path="basics/draft.md", published=False)
    lesson = make_tutorial(section, slug="home", source_path="basics/home.md")
    url = f"/admin/tutorials/tutorial/{lesson.pk}/change/"
    response = staff_client.post(url, form_data(lesson, body_markdown="See [d](draft.md).\n"))
    assert response.status_code == 200  # the form again, with the error
    assert "Links to no published lesson: draft.md" in response.content.decode()
    assert "draft.md" not in Tutorial.objects.get(pk=lesson.pk).body_markdown
