"""
The course roadmap: every published lesson in reading order, from one query.

Built once per request and shared by the sidebar, the home page, the top bar and
previous/next links, so a page's query count does not grow with the course.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Aggregate, OuterRef, Subquery, TextField, Value
from django.db.models.functions import Cast, Concat
from django.http import HttpRequest
from django.urls import reverse

from .models import Tutorial

LESSON_FIELDS = (
    "id",
    "title",
    "slug",
    "order",
    "summary",
    "section__id",
    "section__title",
    "section__slug",
    "section__order",
    "section__description",
)


@dataclass
class LessonLink:
    id: int
    title: str
    slug: str
    summary: str
    section_slug: str
    section_title: str
    url: str
    position: int  # 1-based position in the whole course
    exercises: list[str] = field(default_factory=list)  # global ids, in page order


@dataclass
class SectionEntry:
    id: int
    title: str
    slug: str
    description: str
    url: str
    lessons: list[LessonLink] = field(default_factory=list)


@dataclass
class Roadmap:
    sections: list[SectionEntry]
    lessons: list[LessonLink]

    def __len__(self) -> int:
        return len(self.lessons)

    @property
    def exercise_count(self) -> int:
        """How many exercises the published course has (the home page's "of N")."""
        return sum(len(lesson.exercises) for lesson in self.lessons)

    def find(self, section_slug: str, slug: str) -> LessonLink | None:
        return next(
            (
                item
                for item in self.lessons
                if item.section_slug == section_slug and item.slug == slug
            ),
            None,
        )

    def section(self, slug: str) -> SectionEntry | None:
        return next((s for s in self.sections if s.slug == slug), None)

    def neighbours(self, lesson: LessonLink) -> tuple[LessonLink | None, LessonLink | None]:
        """The previous and next lessons across section boundaries."""
        index = lesson.position - 1
        previous = self.lessons[index - 1] if index > 0 else None
        following = self.lessons[index + 1] if index + 1 < len(self.lessons) else None
        return previous, following


def build_roadmap() -> Roadmap:
    sections: dict[int, SectionEntry] = {}
    lessons: list[LessonLink] = []
    rows = (
        Tutorial.objects.published()
        .in_roadmap_order()
        .annotate(exercise_keys=_exercise_keys())
        .values_list(*LESSON_FIELDS, "exercise_keys")
    )
    for position, row in enumerate(rows, 1):
        (pk, title, slug, _order, summary, s_id, s_title, s_slug, _s_order, s_desc, keys) = row
        section = sections.get(s_id)
        if section is None:
            url = reverse("tutorials:section", kwargs={"section": s_slug})
            section = sections[s_id] = SectionEntry(s_id, s_title, s_slug, s_desc, url)
        url = reverse("tutorials:lesson", kwargs={"section": s_slug, "slug": slug})
        link = LessonLink(pk, title, slug, summary, s_slug, s_title, url, position)
        link.exercises = [f"{slug}/{key}" for key in _split_keys(keys)]
        section.lessons.append(link)
        lessons.append(link)
    return Roadmap(list(sections.values()), lessons)


class _Joined(Aggregate):
    """Texts joined by spaces (GROUP_CONCAT on SQLite, STRING_AGG on PostgreSQL)."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s, ' ')"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="STRING_AGG", **extra)


def _exercise_keys() -> Subquery:
    """Each lesson's exercises as "position:key ..." in the roadmap's one query, for
    the ticks in the roadmap and the home page's count (ids are ``[a-z0-9-]+``)."""
    from .exercises.models import Exercise

    pairs = Concat(Cast("position", TextField()), Value(":"), "key", output_field=TextField())
    joined = (
        Exercise.objects.filter(tutorial=OuterRef("pk"))
        .order_by()
        .values("tutorial")
        .annotate(keys=_Joined(pairs))
        .values("keys")
    )
    return Subquery(joined, output_field=TextField())


def _split_keys(joined: str | None) -> list[str]:
    """The keys of ``_exercise_keys()`` in page order."""
    pairs = [item.partition(":") for item in (joined or "").split()]
    return [key for _position, _, key in sorted(pairs, key=lambda pair: int(pair[0]))]


def roadmap(request: HttpRequest) -> Roadmap:
    """The roadmap for this request, built on first use."""
    cached = getattr(request, "_roadmap", None)
    if cached is None:
        cached = request._roadmap = build_roadmap()
    return cached
