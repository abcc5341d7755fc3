"""
Rendering again the lessons whose links to another lesson have gone stale.

A lesson's HTML holds the URLs of the lessons it links to (rendered at save), and
``TutorialLink`` records each one. When a lesson moves, is unpublished, deleted or
appears, the links to it whose recorded URL is no longer where it is (or no longer
visible to the linking lesson) are stale: those lessons, and only those, are
rendered again, so their links follow or become plain text. Called by the
receivers in tutorials/signals.py once the change is committed.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import Tutorial, TutorialLink


def stale_linkers(paths: Iterable[str]) -> set[int]:
    """Ids of the lessons whose link to one of the files ``paths`` is out of date."""
    paths = {path for path in paths if path}
    if not paths:
        return set()
    targets: dict[str, Tutorial] = {}
    for target in Tutorial.objects.filter(source_path__in=paths).select_related("section"):
        # Two rows may claim a file (an admin copy): the published one is the target.
        if target.source_path not in targets or target.published:
            targets[target.source_path] = target
    rows = TutorialLink.objects.filter(target_path__in=paths).values_list(
        "source_id", "source__published", "target_path", "url"
    )
    stale = set()
    for source_id, source_published, path, url in rows:
        target = targets.get(path)
        visible = target is not None and (target.published or not source_published)
        if url != (target.get_absolute_url() if visible else ""):
            stale.add(source_id)
    return stale


def rerender_linking_to(paths: Iterable[str]) -> int:
    """Render again every lesson whose link to one of ``paths`` is stale; how many."""
    count = 0
    for lesson in Tutorial.objects.filter(pk__in=stale_linkers(paths)).select_related("section"):
        # save() renders with the links as they are now and records them, and sends
        # post_save, so the search index and the page cache follow too.
        lesson.save(update_fields=["body_html", "toc", "reading_minutes"])
        count += 1
    return count
