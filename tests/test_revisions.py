"""Revisions: every save keeps one; admin lists, diffs and restores; --force keeps
the admin's overwritten edit."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from tests.conftest import write
from tests.factories import make_section, make_tutorial
from tutorials import search
from tutorials.models import Tutorial, TutorialRevision

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_client(client):
    user = User.objects.create_superuser("editor", "e@example.com", "a-long-password-123")
    client.force_login(user)
    return client


def admin_edit(client, tutorial: Tutorial, **changes) -> None:
    data = {
        "section": tutorial.section_id,
        "title": tutorial.title,
        "slug": tutorial.slug,
        "order": tutorial.order,
        "summary": tutorial.summary,
        "published": "on" if tutorial.published else "",
        "publish_at_0": "",
        "publish_at_1": "",
        "body_markdown": tutorial.body_markdown,
        "references": "[]",
        **changes,
    }
    response = client.post(f"/admin/tutorials/tutorial/{tutorial.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_each_save_keeps_a_revision_and_a_save_that_changes_nothing_keeps_none():
    tutorial = make_tutorial(title="One")
    tutorial.title = "Two"
    tutorial.save()
    tutorial.save()  # nothing an author edits changed
    assert list(tutorial.revisions.values_list("number", "title")) == [(2, "Two"), (1, "One")]


def test_admin_edit_diff_and_restore(staff_client):
    tutorial = make_tutorial(
        make_section(slug="basics"), title="Receivers", body_markdown="Old line.\n"
    )
    admin_edit(staff_client, tutorial, body_markdown="New line about zebras.\n", title="Recv")

    latest = tutorial.revisions.first()
    assert (latest.number, latest.source, latest.author) == (2, "admin", "editor")

    page = staff_client.get(f"/admin/tutorials/tutorial/{tutorial.pk}/revisions/")
    html = page.content.decode()
    assert page.status_code == 200 and "edited in admin" in html and "editor" in html
    assert (
        f"/admin/tutorials/tutorial/{tutorial.pk}/revisions/"
        in staff_client.get(f"/admin/tutorials/tutorial/{tutorial.pk}/change/").content.decode()
    )

    diff = staff_client.get(f"/admin/tutorials/tutorial/{tutorial.pk}/revisions/diff/?a=1&b=2")
    html = diff.content.decode()
    assert '<span class="diff-del">-Old line.</span>' in html
    assert '<span class="diff-add">+New line about zebras.</span>' in html
    assert "<del>Receivers</del> → <ins>Recv</ins>" in html

    response = staff_client.post(f"/admin/tutorials/tutorial/{tutorial.pk}/revisions/1/restore/")
    assert response.status_code == 302
    restored = Tutorial.objects.get(pk=tutorial.pk)
    assert (restored.title, restored.body_markdown) == ("Receivers", "Old line.\n")
    assert "<p>Old line.</p>" in restored.body_html  # a save: rendered again
    newest = restored.revisions.first()
    assert (newest.number, newest.source, newest.note) == (3, "restore", "restored revision 1")
    # ... and the search index followed through the same post_save.
    assert [hit.tutorial_id for hit in search.search("zebras").hits] == []


def test_restore_needs_post_and_change_permission(client, staff_client):
    tutorial = make_tutorial(title="A")
    tutorial.title = "B"
    tutorial.save()
    url = f"/admin/tutorials/tutorial/{tutorial.pk}/revisions/1/restore/"
    assert staff_client.get(url).status_code == 405
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    client.force_login(viewer)
    assert client.post(url).status_code == 403
    assert Tutorial.objects.get(pk=tutorial.pk).title == "B"


def test_diff_of_unknown_revisions_is_a_404(staff_client):
    tutorial = make_tutorial()
    url = f"/admin/tutorials/tutorial/{tutorial.pk}/revisions/diff/"
    assert staff_client.get(url + "?a=1&b=9").status_code == 404
    assert staff_client.get(url + "?a=x").status_code == 404


def test_force_keeps_the_overwritten_admin_edit_as_a_revision_and_says_so(
    content_dir, staff_client
):
    write(content_dir / "01-b" / "_section.yml", "title: B\nslug: b\norder: 1\n")
    lesson = content_dir / "01-b" / "one.md"
    write(lesson, "---\ntitle: One\nslug: one\norder: 1\n---\n\nFrom the file.\n")
    call_command("sync_content", content_dir=content_dir, stdout=StringIO())
    tutorial = Tutorial.objects.get(slug="one")
    admin_edit(staff_client, tutorial, body_markdown="Admin's careful edit.\n")
    write(lesson, "---\ntitle: One\nslug: one\norder: 1\n---\n\nFile changed too.\n")

    out = StringIO()
    call_command("sync_content", "--force", content_dir=content_dir, stdout=out)

    tutorial.refresh_from_db()
    assert tutorial.body_markdown == "File changed too.\n"
    kept = TutorialRevision.objects.get(tutorial=tutorial, body_markdown__startswith="Admin")
    assert f"01-b/one.md: the admin's version is kept as revision {kept.number}" in out.getvalue()
    assert tutorial.revisions.first().source == "file"
