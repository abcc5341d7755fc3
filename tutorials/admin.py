"""Admin for sections and lessons: edit, preview, publish."""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .models import Section, Tutorial


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
    list_display = ["title", "section", "order", "published", "updated_at", "from_file"]
    list_filter = ["published", "section"]
    list_select_related = ["section"]
    search_fields = ["title", "summary", "body_markdown", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["preview", "source_path", "updated_at", "search_indexed_at"]
    actions = ["publish", "unpublish"]
    fieldsets = [
        (None, {"fields": ["section", "title", "slug", "order", "summary", "published"]}),
        ("Body", {"fields": ["body_markdown", "references"]}),
        ("Preview", {"fields": ["preview"]}),
        ("Source", {"fields": ["source_path", "updated_at", "search_indexed_at"]}),
    ]

    @admin.display(boolean=True, description="from file")
    def from_file(self, obj: Tutorial) -> bool:
        return bool(obj.source_path)

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
