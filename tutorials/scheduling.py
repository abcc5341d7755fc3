"""
Scheduled publishing: a lesson whose ``publish_at`` has come is published by a
plain ``save()``, so its ``post_save`` path (search index, page cache, links) runs
exactly as for a lesson published in admin.

Two triggers, both safe to run together: ``manage.py publish_scheduled`` (for a cron
job, every minute) and ``ScheduledPublishingMiddleware``, which checks at most every
``CHECK_INTERVAL`` seconds per process, so that `make run` needs no cron at all.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time

from django.db import transaction
from django.utils import timezone

from . import revisions
from .models import Tutorial, TutorialRevision

logger = logging.getLogger(__name__)

CHECK_INTERVAL = 10.0  # seconds between checks in one process


def due(now: datetime.datetime | None = None):
    """Unpublished lessons whose publish_at has come."""
    now = now or timezone.now()
    return Tutorial.objects.filter(published=False, publish_at__lte=now, section__isnull=False)


def publish_due(now: datetime.datetime | None = None) -> list[Tutorial]:
    """Publish every lesson that is due; return them."""
    published = []
    for pk in due(now).values_list("pk", flat=True):
        with transaction.atomic():
            tutorial = due(now).select_for_update().select_related("section").filter(pk=pk).first()
            if tutorial is None:  # another process published it first
                continue
            in_sync = not tutorial.edited_since_sync
            tutorial.published = True
            if in_sync and tutorial.synced_content_hash:
                tutorial.synced_content_hash = tutorial.content_hash()
            with revisions.attributed_to(TutorialRevision.SCHEDULE, "publish_scheduled"):
                tutorial.save()
        logger.info("published %s (scheduled for %s)", tutorial.source_path or tutorial.pk,
                    tutorial.publish_at.isoformat())  # fmt: skip
        published.append(tutorial)
    return published


class ScheduledPublishingMiddleware:
    """Publish due lessons before a page (cached or not) is served, every few seconds."""

    def __init__(self, get_response):
        self.get_response = get_response
        # The first check waits one interval: a page's own query count stays fixed, and
        # a process that has just started has just been deployed (or synced) anyway.
        self.next_check = time.monotonic() + CHECK_INTERVAL
        self.lock = threading.Lock()

    def __call__(self, request):
        now = time.monotonic()
        if now >= self.next_check and self.lock.acquire(blocking=False):
            try:
                self.next_check = now + CHECK_INTERVAL
                if due().exists():
                    publish_due()
            except Exception:  # never let the schedule break a page
                logger.exception("scheduled publishing failed; retrying later")
            finally:
                self.lock.release()
        return self.get_response(request)
