"""The receivers that keep the search index current (tutorials/signals.py), and the
paths that save lessons through them: the admin, its actions, sync_content."""

from __future__ import annotations

import importlib
from contextlib import contextmanager

import pytest
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core import serializers
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.urls import reverse

from tests.conftest import write
from tests.factories import make_tutorial
from tutorials import content, search, signals
from tutorials.models import Tutorial

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_index():
    search.backend().replace_all([])


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs the on_commit callbacks of the block, as a commit
    would (each test runs inside a transaction that is never committed)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def found(text: str) -> list[str]:
    return [str(hit.title) for hit in search.search(text).hits]


def search_callbacks(callbacks) -> list:
    """The search index's on_commit callbacks (other receivers add their own)."""
    names = {"update_search_entry", "remove_search_entry"}
    return [c for c in callbacks if c.__name__ in names]


def test_saving_a_lesson_indexes_it_once_the_save_is_committed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        tutorial = make_tutorial(title="Kookaburra", body_markdown="kookaburra")
        assert found("kookaburra") == []  # not before the commit
    [callback] = search_callbacks(callbacks)
    assert callback.__name__ == "update_search_entry"
    callback()
    assert found("kookaburra") == ["Kookaburra"]
    tutorial.refresh_from_db()
    assert tutorial.search_indexed_by == "on_tutorial_saved"


def test_editing_a_lesson_replaces_its_entry(committed):
    with committed():
        tutorial = make_tutorial(title="Old", body_markdown="magpie")
    with committed():
        tutorial.title = "New"
        tutorial.body_markdown = "galah"
        tutorial.save()
    assert found("galah") == ["New"]
    assert found("magpie") == []


def test_a_rolled_back_save_never_reaches_the_index(committed):
    with committed():
        tutorial = make_tutorial(title="Kept", body_markdown="lorikeet")
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        tutorial.body_markdown = "cassowary"
        tutorial.save()
        raise RuntimeError("roll back")
    assert found("cassowary") == []
    assert found("lorikeet") == ["Kept"]


def test_deleting_a_lesson_removes_its_entry_after_the_commit(committed):
    with committed():
        tutorial = make_tutorial(title="Emu", body_markdown="emu")
    with committed() as callbacks:
        tutorial.delete()
    assert [c.__name__ for c in search_callbacks(callbacks)] == ["remove_search_entry"]
    assert search.indexed_count() == 0
    assert found("emu") == []


def test_a_rolled_back_delete_keeps_the_entry(committed):
    with committed():
        tutorial = make_tutorial(title="Dingo", body_markdown="dingo")
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        tutorial.delete()
        raise RuntimeError("roll back")
    assert search.indexed_count() == 1


def test_a_raw_save_from_a_fixture_is_skipped(committed):
    with committed():
        tutorial = make_tutorial(title="Fixture", body_markdown="bandicoot")
    data = serializers.serialize("json", [tutorial])
    Tutorial.objects.filter(pk=tutorial.pk).delete()
    search.backend().replace_all([])
    with committed() as callbacks:
        for obj in serializers.deserialize("json", data):
            obj.save()  # Model.save_base(raw=True), as loaddata does
    assert search_callbacks(callbacks) == []
    assert found("bandicoot") == []


def test_a_failing_index_update_does_not_fail_the_save(committed, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(search, "index_tutorial", broken)
    with committed():
        tutorial = make_tutorial()
    assert Tutorial.objects.filter(pk=tutorial.pk).exists()
    assert "index unavailable" in caplog.text


@contextmanager
def receivers_restored(module, *signals_used):
    """Put back exactly the receivers (and module attributes) found before the block."""
    found_receivers = [(signal, list(signal.receivers)) for signal in signals_used]
    found_attributes = dict(vars(module))
    try:
        yield
    finally:
        for signal, receivers in found_receivers:
            with signal.lock:
                signal.receivers = receivers
                signal.sender_receivers_cache.clear()
        vars(module).update(found_attributes)


SIGNALS_USED = (post_save, post_delete, pre_delete, user_login_failed, user_logged_in)


def test_receivers_are_connected_once_even_if_the_module_is_imported_again(committed):
    before = {signal: list(signal.receivers) for signal in SIGNALS_USED}
    with receivers_restored(signals, *SIGNALS_USED):
        importlib.reload(signals)  # new function objects; the dispatch_uids stop a second connect
        assert {signal: list(signal.receivers) for signal in SIGNALS_USED} == before
        with committed() as callbacks:
            tutorial = make_tutorial()
            tutorial.delete()
        names = [c.__name__ for c in search_callbacks(callbacks)]
        assert names == ["update_search_entry", "remove_search_entry"]
    assert {signal: list(signal.receivers) for signal in SIGNALS_USED} == before
    assert signals.on_tutorial_saved is not None


SECTION = "title: Wildlife\nslug: wildlife\norder: 1\n"
LESSON = "---\ntitle: Wombats\nslug: wombats\norder: 1\n---\n## Burrows\n\nwombat burrows\n"


def test_sync_content_indexes_through_the_receiver_and_unpublishes_removed_files(
    committed, content_dir
):
    write(content_dir / "01-wildlife" / "_section.yml", SECTION)
    lesson_file = write(content_dir / "01-wildlife" / "wombats.md", LESSON)
    with committed():
        content.sync(content_dir)
    hit = search.search("burrows").hits[0]
    assert hit.url == "/wildlife/wombats/#burrows"
    assert Tutorial.objects.get().search_indexed_by == "on_tutorial_saved"
    lesson_file.unlink()
    with committed():
        content.sync(content_dir)
    assert found("burrows") == []


@pytest.fixture
def lesson_in_admin(committed):
    with committed():
        return make_tutorial(title="Quokka", body_markdown="quokka")


def changelist_action(client, action: str, tutorial: Tutorial):
    return client.post(
        reverse("admin:tutorials_tutorial_changelist"),
        {"action": action, "_selected_action": [tutorial.pk]},
        follow=True,
    )


def test_admin_unpublish_and_publish_actions_update_the_index(
    admin_client, committed, lesson_in_admin
):
    with committed():
        changelist_action(admin_client, "unpublish", lesson_in_admin)
    assert found("quokka") == []
    with committed():
        changelist_action(admin_client, "publish", lesson_in_admin)
    assert found("quokka") == ["Quokka"]


def test_admin_edit_and_delete_update_the_index(admin_client, committed, lesson_in_admin):
    change_url = reverse("admin:tutorials_tutorial_change", args=[lesson_in_admin.pk])
    with committed():
        response = admin_client.post(
            change_url,
            {
                "section": lesson_in_admin.section_id,
                "title": "Quokka renamed",
                "slug": lesson_in_admin.slug,
                "order": 1,
                "summary": "",
                "published": "on",
                "body_markdown": "rottnest",
                "references": "[]",
            },
        )
    assert response.status_code == 302
    assert found("rottnest") == ["Quokka renamed"]
    delete_url = reverse("admin:tutorials_tutorial_delete", args=[lesson_in_admin.pk])
    with committed():
        admin_client.post(delete_url, {"post": "yes"})
    assert search.indexed_count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_real_commit_runs_the_receiver_without_help():
    try:
        make_tutorial(title="Committed", body_markdown="pademelon")  # autocommit
        assert found("pademelon") == ["Committed"]
        with pytest.raises(RuntimeError), transaction.atomic():
            make_tutorial(title="Rolled back", body_markdown="pademelon")
            raise RuntimeError("roll back")
        assert found("pademelon") == ["Committed"]
    finally:
        search.backend().replace_all([])  # flush does not empty the FTS5 tables
