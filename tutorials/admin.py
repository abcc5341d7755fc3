"""Admin for sections and lessons: edit, preview, publish."""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from . import search
from .models import SearchMiss, Section, Tutorial


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
        (None, {"fields": ["section", "title", "slug", "order", "summary", "published"]}),
        ("Body", {"fields": ["body_markdown", "references"]}),
        ("Preview", {"fields": ["preview"]}),
        (
            "Source",
            {"fields": ["source_path", "updated_at", "search_indexed_at", "search_indexed_by"]},
        ),
    ]

    class Media:
        css = {"all": ["css/pygments.css"]}  # highlights the code in the rendered preview

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


# Exercises' attempts and pass rates, listed beside the searches that found nothing.
from .exercises import admin as exercises_admin  # noqa: E402, F401
