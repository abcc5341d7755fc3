"""Admin for sections and lessons: edit, preview, publish."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from . import pagecache, revisions, search
from .models import Redirect, SearchMiss, Section, Tutorial, TutorialRevision


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "order", "lesson_count"]
    list_editable = ["order"]
    search_fields = ["title", "description"]
    prepopulated_fields = {"slug": ["title"]}

    @admin.display(description="lessons")
    def lesson_count(self, obj: Section) -> int:
        return obj.tutorials.count()


@admin.register(Tutorial)
class TutorialAdmin(admin.ModelAdmin):
    list_display = [
        "title", "section", "order", "published", "updated_at", "from_file", "in_search",
    ]  # fmt: skip
    list_filter = ["published", "section"]
    list_select_related = ["section"]
    search_fields = ["title", "summary", "body_markdown", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = [
        "preview", "source_path", "updated_at", "search_indexed_at", "search_indexed_by",
    ]  # fmt: skip
    actions = ["publish", "unpublish", "rebuild_search_index"]
    fieldsets = [
        (
            None,
            {"fields": ["section", "title", "slug", "order", "summary", "published", "publish_at"]},
        ),
        ("Body", {"fields": ["body_markdown", "references"]}),
        ("Preview", {"fields": ["preview"]}),
        (
            "Source",
            {"fields": ["source_path", "updated_at", "search_indexed_at", "search_indexed_by"]},
        ),
    ]

    change_form_template = "admin/tutorials/tutorial/change_form.html"

    class Media:
        css = {"all": ["css/pygments.css"]}  # highlights the code in the rendered preview

    def save_model(self, request, obj, form, change):
        with revisions.attributed_to(TutorialRevision.ADMIN, request.user.get_username()):
            super().save_model(request, obj, form, change)

    # Revisions: a list, a diff between any two, and a restore (a save like any other).

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/revisions/", view(self.revisions_view), name="tutorial_revisions"
            ),
            path(
                "<int:object_id>/revisions/diff/",
                view(self.revision_diff_view),
                name="tutorial_revision_diff",
            ),
            path(
                "<int:object_id>/revisions/<int:number>/restore/",
                view(require_POST(self.revision_restore_view)),
                name="tutorial_revision_restore",
            ),
            *super().get_urls(),
        ]

    def _tutorial_for(self, request, object_id: int, change: bool = False) -> Tutorial:
        tutorial = get_object_or_404(Tutorial.objects.select_related("section"), pk=object_id)
        allowed = (self.has_change_permission if change else self.has_view_permission)(
            request, tutorial
        )
        if not allowed:
            raise PermissionDenied
        return tutorial

    def _context(self, request, tutorial: Tutorial, title: str, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": tutorial,
            "title": title,
            "has_change_permission": self.has_change_permission(request, tutorial),
            **extra,
        }

    def revisions_view(self, request, object_id: int):
        tutorial = self._tutorial_for(request, object_id)
        items = list(tutorial.revisions.all())
        context = self._context(
            request, tutorial, f"Revisions of “{tutorial.title}”", revisions=items
        )
        return TemplateResponse(request, "admin/tutorials/tutorial/revisions.html", context)

    def revision_diff_view(self, request, object_id: int):
        tutorial = self._tutorial_for(request, object_id)
        try:
            numbers = sorted({int(request.GET["a"]), int(request.GET["b"])})
        except (KeyError, ValueError):
            raise Http404("Choose two revisions to compare.") from None
        found = {r.number: r for r in tutorial.revisions.filter(number__in=numbers)}
        if len(found) != 2:
            raise Http404("Choose two different revisions of this lesson.")
        old, new = found[numbers[0]], found[numbers[1]]
        context = self._context(
            request,
            tutorial,
            f"Revision {old.number} → {new.number} of “{tutorial.title}”",
            old=old,
            new=new,
            changes=revisions.diff(old, new),
        )
        return TemplateResponse(request, "admin/tutorials/tutorial/revision_diff.html", context)

    def revision_restore_view(self, request, object_id: int, number: int):
        tutorial = self._tutorial_for(request, object_id, change=True)
        revision = get_object_or_404(TutorialRevision, tutorial=tutorial, number=number)
        with transaction.atomic():
            revisions.restore(revision, request.user.get_username())
        self.message_user(
            request, f"Restored revision {number}; it is saved as a new revision.", messages.SUCCESS
        )
        url = reverse("admin:tutorial_revisions", args=[tutorial.pk])
        return HttpResponseRedirect(url)

    @admin.display(boolean=True, description="from file")
    def from_file(self, obj: Tutorial) -> bool:
        return bool(obj.source_path)

    @admin.display(boolean=True, description="in search", ordering="search_indexed_at")
    def in_search(self, obj: Tutorial) -> bool:
        # Set by tutorials.search.index_tutorial() when it indexes the lesson, cleared
        # when it drops it.
        return obj.search_indexed_at is not None

    def changelist_view(self, request, extra_context=None):
        published = Tutorial.objects.published().count()
        extra_context = {
            "subtitle": f"Search index: {search.indexed_count()} of {published} "
            "published lessons indexed",
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description="rendered lesson")
    def preview(self, obj: Tutorial):
        if not obj.body_html:
            return "Save to see the rendered lesson."
        # body_html is sanitized by nh3 when the lesson is saved.
        return format_html('<div class="lesson-preview">{}</div>', mark_safe(obj.body_html))

    def _set_published(self, request, queryset, value: bool) -> None:
        # Saved one by one (not queryset.update) so post_save keeps the search index current.
        changed = 0
        with transaction.atomic():
            for tutorial in queryset.select_related("section"):
                if tutorial.published != value:
                    tutorial.published = value
                    with revisions.attributed_to(
                        TutorialRevision.ADMIN, request.user.get_username()
                    ):
                        tutorial.save()
                    changed += 1
        verb = "published" if value else "unpublished"
        self.message_user(request, f"{changed} lesson(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Publish selected lessons")
    def publish(self, request, queryset):
        self._set_published(request, queryset, True)

    @admin.action(description="Unpublish selected lessons")
    def unpublish(self, request, queryset):
        self._set_published(request, queryset, False)

    @admin.action(description="Rebuild the whole search index", permissions=["change"])
    def rebuild_search_index(self, request, queryset):
        # The whole index, whatever is selected: the same as manage.py rebuild_search_index.
        report = search.rebuild(indexed_by="rebuild_search_index")
        pagecache.bump_content_version()  # cached pages show what was indexed
        level = messages.ERROR if report.errors else messages.SUCCESS
        self.message_user(request, f"Search index rebuilt: {report.summary()}.", level)
        for error in report.errors:
            self.message_user(request, error, messages.ERROR)


@admin.register(SearchMiss)
class SearchMissAdmin(admin.ModelAdmin):
    """Searches that found nothing: what learners looked for and did not find."""

    list_display = ["query", "count", "last_seen", "first_seen"]
    search_fields = ["query"]
    date_hierarchy = "last_seen"
    readonly_fields = ["query", "count", "first_seen", "last_seen"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Redirect)
class RedirectAdmin(admin.ModelAdmin):
    """Old addresses of renamed or moved lessons and sections; each answers 301.

    Left behind by ``Tutorial.save()`` and ``Section.save()`` when a slug or section
    changes. Delete one to let its address answer 404 again.
    """

    list_display = ["old_path", "tutorial", "section"]
    list_select_related = ["tutorial", "section"]
    search_fields = ["old_path"]
    readonly_fields = ["old_path", "tutorial", "section"]

    def has_add_permission(self, request) -> bool:
        return False


# Exercises' attempts and pass rates, listed beside the searches that found nothing.
from .exercises import admin as exercises_admin  # noqa: E402, F401
