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
lesson's pages again (``tutorials/proxycache.py``). And
``user_login_failed`` counts failed logins for the admin login throttle
(``tutorials/ratelimit.py``), a signal Django sends for you.
"""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import pagecache, proxycache, ratelimit, search
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


@receiver(user_login_failed, dispatch_uid="tutorials.signals.on_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    """Count a failed login against the client's address; too many and the admin
    login answers 429 for a while (``tutorials/ratelimit.py``)."""
    if request is not None:
        ratelimit.record_failure(request)


@receiver(user_logged_in, dispatch_uid="tutorials.signals.on_logged_in")
def on_logged_in(sender, request, user, **kwargs):
    """A successful login forgets the address's earlier failures."""
    if request is not None:
        ratelimit.clear(request)
