"""Admin: each exercise's attempts and pass rate (counts only), to spot the confusing ones."""

from django.contrib import admin
from django.db.models import ExpressionWrapper, F, FloatField
from django.db.models.functions import Cast, NullIf

from .models import Exercise


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    """Read-only: exercises are written in the lessons and stored when one is saved."""

    list_display = ["exercise_id", "title", "kind", "attempts", "passes", "pass_rate_display",
                    "solutions_shown"]  # fmt: skip
    list_filter = ["kind", "tutorial__section"]
    list_select_related = ["tutorial"]
    search_fields = ["key", "title", "tutorial__title", "tutorial__slug"]
    fields = ["exercise_id", "tutorial", "title", "kind", "attempts", "passes",
              "pass_rate_display", "solutions_shown"]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        attempts = Cast(NullIf(F("attempts"), 0), FloatField())
        rate = ExpressionWrapper(F("passes") / attempts, output_field=FloatField())
        # Lowest pass rate first: the exercises that confuse learners most.
        return (
            super()
            .get_queryset(request)
            .annotate(pass_rate_value=rate)
            .order_by(F("pass_rate_value").asc(nulls_last=True), "-attempts")
        )

    @admin.display(description="exercise", ordering="key")
    def exercise_id(self, obj: Exercise) -> str:
        return obj.global_id

    @admin.display(description="pass rate", ordering="pass_rate_value")
    def pass_rate_display(self, obj: Exercise) -> str:
        rate = obj.pass_rate
        return "–" if rate is None else f"{rate:.0%}"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
