"""
The course: sections and their lessons (tutorials).

A Tutorial stores its Markdown source and the HTML rendered from it when it is
saved, so that serving a lesson never runs Markdown or Pygments.
"""

from __future__ import annotations

import hashlib
import json

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse
from django.utils import timezone

from . import markdown


class SectionQuerySet(models.QuerySet):
    def with_published_lessons(self) -> SectionQuerySet:
        """Sections that have at least one published lesson, in roadmap order."""
        return self.filter(tutorials__published=True).distinct().order_by("order", "title")


class Section(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    order = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)
    source_path = models.CharField(max_length=500, blank=True, help_text="File in content/.")
    source_hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = SectionQuerySet.as_manager()

    class Meta:
        ordering = ["order", "title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("tutorials:section", kwargs={"section": self.slug})


class TutorialQuerySet(models.QuerySet):
    def published(self) -> TutorialQuerySet:
        return self.filter(published=True, section__isnull=False)

    def in_roadmap_order(self) -> TutorialQuerySet:
        """Lessons in the order the course is read: by section, then lesson order."""
        return self.select_related("section").order_by(
            "section__order", "section__title", "order", "title"
        )


class Tutorial(models.Model):
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="tutorials")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100)
    order = models.PositiveIntegerField(default=0)
    summary = models.CharField(max_length=300, blank=True)
    body_markdown = models.TextField("body (Markdown)")
    references = models.JSONField(default=list, blank=True, help_text="[{title, url}, …]")
    published = models.BooleanField(default=True)

    # Filled by save(): never edited by hand.
    body_html = models.TextField(editable=False, blank=True)
    toc = models.JSONField(default=list, editable=False, blank=True)
    reading_minutes = models.PositiveSmallIntegerField(default=1, editable=False)

    # Where the lesson came from, and what sync_content last wrote.
    source_path = models.CharField(max_length=500, blank=True, help_text="File in content/.")
    source_hash = models.CharField(max_length=64, blank=True, editable=False)
    synced_content_hash = models.CharField(max_length=64, blank=True, editable=False)

    # Written by the search index's post_save receiver (see tutorials/signals.py).
    search_indexed_at = models.DateTimeField(null=True, blank=True, editable=False)
    search_indexed_by = models.CharField(max_length=200, blank=True, editable=False)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TutorialQuerySet.as_manager()

    class Meta:
        ordering = ["section__order", "order", "title"]
        constraints = [
            models.UniqueConstraint(fields=["section", "slug"], name="unique_slug_per_section")
        ]
        indexes = [models.Index(fields=["published", "order"])]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, resolve_link: markdown.LinkResolver | None = None, **kwargs) -> None:
        self.render(resolve_link)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("tutorials:lesson", kwargs={"section": self.section.slug, "slug": self.slug})

    def content_hash(self) -> str:
        """A fingerprint of what an author or admin edits, to detect admin changes."""
        editable = [
            self.section_id,
            self.title,
            self.slug,
            self.order,
            self.summary,
            self.body_markdown,
            self.references,
        ]
        return hashlib.sha256(json.dumps(editable, default=str).encode()).hexdigest()

    @property
    def edited_since_sync(self) -> bool:
        """True when the row differs from what sync_content last wrote (an admin edit)."""
        return bool(self.synced_content_hash) and self.content_hash() != self.synced_content_hash

    def render(self, resolve_link: markdown.LinkResolver | None = None) -> markdown.Rendered:
        """Render body_markdown into body_html, toc and reading time."""
        if resolve_link is None:
            resolve_link = database_link_resolver(self.source_path)
        rendered = markdown.render(self.body_markdown, resolve_link)
        self.body_html = rendered.html
        self.toc = rendered.toc
        self.reading_minutes = rendered.reading_minutes
        return rendered


def database_link_resolver(source_path: str) -> markdown.LinkResolver:
    """Resolve ``other.md`` links against the lessons already in the database."""

    def resolve(href: str) -> str | None:
        target = markdown.resolve_relative(source_path, href)
        lesson = (
            Tutorial.objects.filter(source_path=target).select_related("section").first()
            if source_path
            else None
        )
        return lesson.get_absolute_url() if lesson else None

    return resolve


class SearchMiss(models.Model):
    """A search that found nothing, counted so authors see what learners looked for.

    The query is stored normalized (lower case, words only) and cut to
    ``QUERY_LENGTH`` characters, and ``tutorials.search.record_miss()`` stops adding
    rows at a cap, so the table cannot be blown up by sending random queries.
    """

    QUERY_LENGTH = 100  # characters

    query = models.CharField(max_length=QUERY_LENGTH, unique=True)
    count = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(default=timezone.now, editable=False)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-count", "-last_seen"]
        verbose_name = "search that found nothing"
        verbose_name_plural = "searches that found nothing"

    def __str__(self) -> str:
        return self.query


class SearchDocument(models.Model):
    """One published lesson in PostgreSQL's full-text index (``tutorials/search/postgres.py``).

    PostgreSQL only: on SQLite the FTS5 tables made in ``tutorials/search/sqlite.py`` hold the
    same entries. Written by ``tutorials.search``, never edited by hand.
    """

    tutorial = models.OneToOneField(
        Tutorial,
        on_delete=models.DO_NOTHING,  # the post_delete receiver removes the entry
        db_constraint=False,
        primary_key=True,
        related_name="+",
    )
    title = models.TextField()
    title_key = models.TextField(db_index=True)
    headings = models.TextField(blank=True)
    body = models.TextField(blank=True)
    parts = models.TextField(blank=True)  # identifier parts, weight D (text.identifier_parts)
    # title (A) + headings (B): the first tier of results. + body (C): everything.
    head_vector = SearchVectorField(null=True)
    search_vector = SearchVectorField(null=True)

    class Meta:
        required_db_vendor = "postgresql"
        indexes = [
            GinIndex(fields=["head_vector"], name="search_doc_head_gin"),
            GinIndex(fields=["search_vector"], name="search_doc_vector_gin"),
        ]

    def __str__(self) -> str:
        return self.title


class SearchSection(models.Model):
    """One h2/h3 part of an indexed lesson, so a hit can link to its heading.

    PostgreSQL only, like ``SearchDocument``.
    """

    document = models.ForeignKey(SearchDocument, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField()
    anchor = models.CharField(max_length=200, blank=True)
    heading = models.TextField(blank=True)
    body = models.TextField(blank=True)
    search_vector = SearchVectorField(null=True)

    class Meta:
        required_db_vendor = "postgresql"
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "position"], name="unique_search_section_position"
            )
        ]

    def __str__(self) -> str:
        return self.heading or "(introduction)"


class SearchTerm(models.Model):
    """A word (a stem) of PostgreSQL's full-text index, for "Did you mean …?".

    PostgreSQL only, with a trigram index (pg_trgm) to find the words near a typo.
    Words are added as lessons are indexed and all replaced by a rebuild; a word
    whose lessons are gone stays until then (a suggestion is only offered when it
    finds something, so it is never wrong, only missing).
    """

    word = models.TextField(primary_key=True)
    documents = models.PositiveIntegerField(default=1)  # lessons it was in when counted

    class Meta:
        required_db_vendor = "postgresql"
        indexes = [GinIndex(fields=["word"], name="search_term_trgm", opclasses=["gin_trgm_ops"])]

    def __str__(self) -> str:
        return self.word
