"""
Receivers for the tutorials app, connected in ``TutorialsConfig.ready()``.

Receivers only: the work they trigger lives in the module that owns it. Here the
search index (``tutorials/search/``) is kept current: saving a Tutorial rebuilds
that lesson's entry, deleting one removes it. The lesson "Under the hood"
(/signals-in-practice/under-the-hood/) walks through this file.

Both receivers defer the work with ``transaction.on_commit()``: a save that is
rolled back never reaches the index, and the entry is built from the row as it
was committed. ``robust=True`` means a failing index update is logged instead of
failing the save that triggered it; ``manage.py rebuild_search_index`` repairs it.

The same saves and deletes (of sections too) start a new content version of the
page cache (``tutorials/pagecache.py``) once committed, after the index update; then
the shared HTTP cache in front of the site, when there is one, fetches the saved
lesson's pages again (``tutorials/proxycache.py``). And ``user_logged_in`` gives back
the attempts the admin login throttle (``tutorials/ratelimit.py``) counted, a signal
Django sends for you.

Links between lessons follow the lessons they point to: when a lesson's address or
visibility changes (a new slug or section, published or not, deleted), the lessons
linking to it are rendered again once committed (``tutorials/backlinks.py``).
"""

from django.contrib.auth.signals import user_logged_in
from django.core.signals import request_finished
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from . import backlinks, pagecache, proxycache, ratelimit, requestlog, revisions, search
from .models import Section, Tutorial


@receiver(post_save, sender=Tutorial, dispatch_uid="tutorials.signals.on_tutorial_saved")
def on_tutorial_saved(sender, instance, raw=False, using=None, **kwargs):
    """Rebuild the saved lesson's search entry once the save is committed.

    A ``raw`` save (``loaddata``) is skipped: a fixture loads rows as they are,
    possibly before the rows they refer to, so rebuild the index after loading.
    Publishing and unpublishing are saves too: an unpublished lesson's entry is
    dropped.
    """
    if raw:
        return
    tutorial_id = instance.pk

    def update_search_entry():
        search.index_tutorial(tutorial_id, indexed_by="on_tutorial_saved")

    transaction.on_commit(update_search_entry, using=using, robust=True)
    # Then the cached pages: after the index, so a lesson shows when it was indexed.
    transaction.on_commit(pagecache.bump_content_version, using=using, robust=True)

    def refresh_shared_cache():
        proxycache.refresh_lesson(tutorial_id)

    # Last, once the new pages render: the shared HTTP cache fetches them now.
    transaction.on_commit(refresh_shared_cache, using=using, robust=True)


@receiver(post_save, sender=Tutorial, dispatch_uid="tutorials.signals.on_tutorial_saved_exercises")
def on_tutorial_saved_exercises(sender, instance, raw=False, **kwargs):
    """Store the saved lesson's exercises (their checks and solutions stay out of
    the page's HTML: the run endpoint looks them up). In the save's transaction, so
    a lesson and its checks never disagree."""
    if raw:
        return
    from .exercises.store import store_exercises

    store_exercises(instance)


@receiver(post_save, sender=Tutorial, dispatch_uid="tutorials.signals.keep_revision")
def keep_revision(sender, instance, raw=False, **kwargs):
    """Keep every saved state of a lesson as a revision (``tutorials/revisions.py``),
    in the same transaction as the save, so an edit and its revision commit together."""
    if not raw:
        revisions.record(instance)


@receiver(post_delete, sender=Tutorial, dispatch_uid="tutorials.signals.on_tutorial_deleted")
def on_tutorial_deleted(sender, instance, using=None, **kwargs):
    """Remove the deleted lesson's search entry once the delete is committed."""
    tutorial_id = instance.pk

    def remove_search_entry():
        search.remove_tutorial(tutorial_id)

    transaction.on_commit(remove_search_entry, using=using, robust=True)
    transaction.on_commit(pagecache.bump_content_version, using=using, robust=True)


@receiver(post_save, sender=Section, dispatch_uid="tutorials.signals.on_section_saved")
@receiver(post_delete, sender=Section, dispatch_uid="tutorials.signals.on_section_deleted")
def on_section_changed(sender, instance, using=None, **kwargs):
    """A section's title or order shows on every page (the roadmap): once the
    change is committed, start a new page-cache content version."""
    transaction.on_commit(pagecache.bump_content_version, using=using, robust=True)


@receiver(user_logged_in, dispatch_uid="tutorials.signals.on_logged_in")
def on_logged_in(sender, request, user, **kwargs):
    """A successful login forgets the address's earlier attempts (each one was
    counted before its password was checked, ``tutorials/ratelimit.py``)."""
    if request is not None:
        ratelimit.clear(request)


@receiver(request_finished, dispatch_uid="tutorials.signals.on_request_finished")
def on_request_finished(sender, **kwargs):
    """Forget the request id (tutorials/requestlog.py) once the response is closed.

    Not in the middleware's own exit: Django logs a 4xx or 5xx after the
    middleware has returned, and that line must carry the id too.
    """
    requestlog.forget_request_id()


@receiver(post_save, sender=Tutorial, dispatch_uid="tutorials.signals.on_tutorial_moved")
def on_tutorial_moved(sender, instance, raw=False, using=None, **kwargs):
    """A lesson that is new, moved (slug, section, file) or published or unpublished
    changes the links to it: once committed, render the lessons linking to it again.

    After the commit, because the content sync moves several lessons in one
    transaction (some through a temporary slug) and the links must see the end state.
    """
    if raw or not instance.link_target_changed:
        return
    paths = {instance.source_path, instance.loaded_value("source_path")}

    def rerender():
        backlinks.rerender_linking_to(paths)

    transaction.on_commit(rerender, using=using, robust=True)


@receiver(pre_delete, sender=Tutorial, dispatch_uid="tutorials.signals.on_tutorial_deleting")
def on_tutorial_deleting(sender, instance, using=None, **kwargs):
    """A deleted lesson's linkers lose the link (it becomes text) once committed."""
    paths = {instance.source_path}

    def rerender():
        backlinks.rerender_linking_to(paths)

    transaction.on_commit(rerender, using=using, robust=True)


@receiver(post_save, sender=Section, dispatch_uid="tutorials.signals.on_section_renamed")
def on_section_renamed(sender, instance, raw=False, using=None, **kwargs):
    """A section's new slug moves all its lessons: render their linkers again."""
    if raw or not instance.slug_changed:
        return
    section_id = instance.pk

    def rerender():
        paths = Tutorial.objects.filter(section_id=section_id).values_list("source_path", flat=True)
        backlinks.rerender_linking_to(list(paths))

    transaction.on_commit(rerender, using=using, robust=True)
