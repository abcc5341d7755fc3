"""
Rendering again the lessons that link to a lesson whose address or visibility changed.

A lesson's HTML holds the URLs of the lessons it links to (rendered at save). When
one of those moves, is unpublished or deleted, or appears, the lessons linking to
it (``TutorialLink``) are rendered again, so their links follow or become plain
text. Called by the receivers in tutorials/signals.py once the change is committed.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import Tutorial


def rerender_linking_to(paths: Iterable[str], *, exclude: int | None = None) -> int:
    """Render again every lesson linking to one of the files ``paths``; returns how many."""
    paths = [path for path in paths if path]
    if not paths:
        return 0
    linking = (
        Tutorial.objects.filter(links__target_path__in=paths)
        .exclude(pk=exclude)
        .select_related("section")
        .distinct()
    )
    count = 0
    for lesson in linking:
        # save() renders with the links as they are now, and sends post_save, so
        # the search index and the page cache follow too.
        lesson.save(update_fields=["body_html", "toc", "reading_minutes"])
        count += 1
    return count
