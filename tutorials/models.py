"""
The course: sections and their lessons (tutorials).

A Tutorial stores its Markdown source and the HTML rendered from it when it is
saved, so that serving a lesson never runs Markdown or Pygments. Links between
lessons are data (``TutorialLink``): when a lesson's address or visibility changes,
a receiver (tutorials/signals.py) renders the lessons linking to it again. An
address that changes leaves a ``Redirect`` behind, so old links answer 301.
"""

from __future__ import annotations

import hashlib
import json

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models, transaction
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

    def save(self, *args, **kwargs) -> None:
        with transaction.atomic(using=kwargs.get("using")):
            if self.slug_changed:
                self._leave_redirects(self._loaded_slug)
            super().save(*args, **kwargs)
        self._loaded_slug = self.slug

    def get_absolute_url(self) -> str:
        return reverse("tutorials:section", kwargs={"section": self.slug})

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_slug = instance.__dict__.get("slug")
        return instance

    @property
    def slug_changed(self) -> bool:
        """True while saving a loaded section whose slug differs from the stored one."""
        loaded = getattr(self, "_loaded_slug", None)
        return loaded is not None and loaded != self.slug

    def _leave_redirects(self, old_slug: str) -> None:
        """Point the section's old address, and its lessons' old addresses, here."""
        old = reverse("tutorials:section", kwargs={"section": old_slug})
        Redirect.point(old, section=self)
        for pk, slug in self.tutorials.values_list("pk", "slug"):
            url = reverse("tutorials:lesson", kwargs={"section": old_slug, "slug": slug})
            Redirect.point(url, tutorial_id=pk)


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
    publish_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Publish automatically at this time (leave “published” unticked until then).",
    )

    # Filled by save(): never edited by hand.
    body_html = models.TextField(editable=False, blank=True)
    toc = models.JSONField(default=list, editable=False, blank=True)
    reading_minutes = models.PositiveSmallIntegerField(default=1, editable=False)

    # Where the lesson came from, and what sync_content last wrote.
    source_path = models.CharField(max_length=500, blank=True, help_text="File in content/.")
    source_hash = models.CharField(max_length=64, blank=True, editable=False)
    source_updated_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When its file last changed: its last git commit, else when it was synced.",
    )
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

    def save(
        self,
        *args,
        resolve_link: markdown.LinkResolver | None = None,
        rendered: markdown.Rendered | None = None,
        **kwargs,
    ) -> None:
        """Render (or take ``rendered``, already made by the content sync), save, and
        record the lesson's links and, when its address changed, a redirect."""
        if rendered is None:
            rendered = self.render(resolve_link)
        else:
            self._apply(rendered)
        old_url = self._moved_from()
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)
            self._record_links(rendered)
            if old_url:
                Redirect.point(old_url, tutorial_id=self.pk)
            Redirect.objects.filter(old_path=self.get_absolute_url()).delete()
        self._loaded = {f: getattr(self, f) for f in self.LINK_TARGET_FIELDS}

    def get_absolute_url(self) -> str:
        return reverse("tutorials:lesson", kwargs={"section": self.section.slug, "slug": self.slug})

    # What decides where a lesson is and who may see it: a change to any of them
    # means the lessons linking to it must be rendered again.
    LINK_TARGET_FIELDS = ("section_id", "slug", "published", "source_path")

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded = {f: instance.__dict__.get(f) for f in cls.LINK_TARGET_FIELDS}
        return instance

    def loaded_value(self, field: str):
        """The value ``field`` had when the row was read (None for a new lesson)."""
        return (getattr(self, "_loaded", None) or {}).get(field)

    @property
    def link_target_changed(self) -> bool:
        """True for a new lesson, or one whose address, visibility or file changed
        since it was read: the lessons linking to it are then rendered again."""
        loaded = getattr(self, "_loaded", None)
        if loaded is None:
            return True
        return any(
            loaded[field] is not None and loaded[field] != getattr(self, field)
            for field in self.LINK_TARGET_FIELDS
        )

    def _moved_from(self) -> str | None:
        """The address the stored row had, when this save moves the lesson."""
        old_section, old_slug = self.loaded_value("section_id"), self.loaded_value("slug")
        if old_section is None or (old_section, old_slug) == (self.section_id, self.slug):
            return None
        section_slug = Section.objects.filter(pk=old_section).values_list("slug", flat=True)
        section_slug = section_slug.first()
        if section_slug is None:
            return None
        return reverse("tutorials:lesson", kwargs={"section": section_slug, "slug": old_slug})

    def _record_links(self, rendered: markdown.Rendered) -> None:
        """Keep this lesson's rows in ``TutorialLink`` equal to what it was rendered with."""
        targets = {
            markdown.resolve_relative(self.source_path, href.partition("#")[0]): ""
            for href in rendered.broken_links
        }
        for href, url in rendered.link_urls.items():
            targets[markdown.resolve_relative(self.source_path, href)] = url
        stored = dict(self.links.values_list("target_path", "url"))
        if stored.keys() - targets.keys():
            self.links.filter(target_path__in=stored.keys() - targets.keys()).delete()
        for path, url in targets.items():
            if path in stored and stored[path] != url:
                self.links.filter(target_path=path).update(url=url)
        new = sorted(targets.keys() - stored.keys())
        if new:
            TutorialLink.objects.bulk_create(
                [TutorialLink(source=self, target_path=path, url=targets[path]) for path in new]
            )

    def clean(self) -> None:
        """Refuse (in admin) a body that cannot be rendered or links to a lesson that
        does not exist or, from a published lesson, to a draft."""
        super().clean()
        try:
            resolve = database_link_resolver(self.source_path, published_only=self.published)
            rendered = markdown.render(self.body_markdown or "", resolve)
        except markdown.RenderError as error:
            where = f"line {error.line}: " if error.line else ""
            raise ValidationError({"body_markdown": where + error.message}) from None
        if rendered.broken_links:
            which = "published " if self.published else ""
            raise ValidationError(
                {
                    "body_markdown": "Links to no "
                    + which
                    + "lesson: "
                    + ", ".join(sorted(set(rendered.broken_links)))
                }
            )

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
        # sort_keys: PostgreSQL's jsonb gives the keys of ``references`` back in its own
        # order, which must not look like an admin edit.
        canonical = json.dumps(editable, default=str, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def edited_since_sync(self) -> bool:
        """True when the row differs from what sync_content last wrote (an admin edit)."""
        return bool(self.synced_content_hash) and self.content_hash() != self.synced_content_hash

    def render(self, resolve_link: markdown.LinkResolver | None = None) -> markdown.Rendered:
        """Render body_markdown into body_html, toc and reading time."""
        if resolve_link is None:
            resolve_link = database_link_resolver(self.source_path, published_only=self.published)
        rendered = markdown.render(self.body_markdown, resolve_link)
        self._apply(rendered)
        return rendered

    def _apply(self, rendered: markdown.Rendered) -> None:
        self.body_html = rendered.html
        self.toc = rendered.toc
        self.reading_minutes = rendered.reading_minutes


def database_link_resolver(
    source_path: str, *, published_only: bool = True
) -> markdown.LinkResolver:
    """Resolve ``other.md`` links against the lessons already in the database.

    A published lesson resolves only published lessons: a link to a draft would
    show its address and lead to a 404.
    """

    def resolve(href: str) -> str | None:
        if not source_path:
            return None
        target = markdown.resolve_relative(source_path, href)
        lessons = Tutorial.objects.filter(source_path=target).select_related("section")
        lesson = (lessons.published() if published_only else lessons).first()
        return lesson.get_absolute_url() if lesson else None

    return resolve


class TutorialLink(models.Model):
    """One lesson linking to another lesson's file, and the URL it was rendered with.

    Kept by ``Tutorial.save()`` from the links the renderer found. Keyed by the
    target's file (``source_path``) rather than its row, so a link to a lesson that
    does not exist yet is known too. ``url`` is empty when the link did not resolve
    (rendered as text): a linker whose ``url`` differs from where the target is now
    is stale and rendered again (tutorials/backlinks.py).
    """

    source = models.ForeignKey(Tutorial, on_delete=models.CASCADE, related_name="links")
    target_path = models.CharField(max_length=500, db_index=True)
    url = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target_path"], name="unique_link")
        ]

    def __str__(self) -> str:
        return f"{self.source_id} -> {self.target_path}"


class Redirect(models.Model):
    """An address a lesson or section used to have; it answers 301 to the current one."""

    old_path = models.CharField(max_length=300, unique=True)
    tutorial = models.ForeignKey(Tutorial, null=True, blank=True, on_delete=models.CASCADE)
    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tutorial__isnull=True) ^ models.Q(section__isnull=True),
                name="redirect_has_one_target",
            )
        ]

    def __str__(self) -> str:
        return self.old_path

    @classmethod
    def point(cls, old_path: str, **target) -> None:
        """Make ``old_path`` lead to ``target`` (``tutorial_id=`` or ``section=``)."""
        defaults = {"tutorial_id": None, "section": None, **target}
        cls.objects.update_or_create(old_path=old_path, defaults=defaults)

    @classmethod
    def target_url(cls, path: str) -> str | None:
        """Where ``path`` moved to, if it did and the target is visible."""
        redirect = (
            cls.objects.filter(old_path=path).select_related("tutorial__section", "section").first()
        )
        if redirect is None:
            return None
        if redirect.tutorial is not None:
            lesson = redirect.tutorial
            return lesson.get_absolute_url() if lesson.published else None
        return redirect.section.get_absolute_url()


from .exercises.models import Exercise  # noqa: E402, F401  (stored with its lesson)


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
        # fastupdate off: with it, new entries wait in a pending list that every
        # search reads through until VACUUM merges it (a whole rebuild's worth).
        indexes = [
            GinIndex(fields=["head_vector"], name="search_doc_head_gin", fastupdate=False),
            GinIndex(fields=["search_vector"], name="search_doc_vector_gin", fastupdate=False),
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


class TutorialRevision(models.Model):
    """
    One saved state of a lesson, from admin, a file or a restore
    (``tutorials/revisions.py``). Revisions are never edited; restoring one saves
    the lesson, which records a new revision.
    """

    ADMIN, FILE, RESTORE, SCHEDULE, OTHER = "admin", "file", "restore", "schedule", "other"
    SOURCES = [
        (ADMIN, "edited in admin"),
        (FILE, "synced from its file"),
        (RESTORE, "restored"),
        (SCHEDULE, "published on schedule"),
        (OTHER, "saved by code"),
    ]

    tutorial = models.ForeignKey(Tutorial, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(help_text="1 for the lesson's first revision.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    source = models.CharField(max_length=20, choices=SOURCES, default=OTHER)
    author = models.CharField(max_length=150, blank=True, help_text="Who or what saved it.")
    note = models.CharField(max_length=300, blank=True)
    # The lesson as it was saved: what an author or admin edits.
    section_slug = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100)
    order = models.PositiveIntegerField(default=0)
    summary = models.CharField(max_length=300, blank=True)
    body_markdown = models.TextField()
    references = models.JSONField(default=list, blank=True)
    published = models.BooleanField(default=True)
    publish_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["tutorial", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["tutorial", "number"], name="unique_revision_number_per_tutorial"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tutorial_id} revision {self.number}"


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
        indexes = [
            GinIndex(
                fields=["word"],
                name="search_term_trgm",
                opclasses=["gin_trgm_ops"],
                fastupdate=False,  # as SearchDocument's
            )
        ]

    def __str__(self) -> str:
        return self.word


class SearchWord(models.Model):
    """A word as the lessons spell it, with its lexeme in PostgreSQL's index, so a
    hit's title, heading and snippet are highlighted in Python from the text already
    fetched, instead of by ``ts_headline`` parsing every section again.

    PostgreSQL only. Words are added as lessons are indexed and all replaced by a
    rebuild, as SearchTerm's; one whose lessons are gone is never shown, only looked up.
    """

    word = models.TextField(primary_key=True)  # casefolded (see text.word_parts)
    # Byte order ("C"), so the lexemes a prefix starts are one range of the index.
    lexeme = models.TextField(db_collation="C")

    class Meta:
        required_db_vendor = "postgresql"
        indexes = [models.Index(fields=["lexeme"], name="search_word_lexeme")]

    def __str__(self) -> str:
        return f"{self.word} ({self.lexeme})"
