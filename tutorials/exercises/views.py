"""The solution endpoint: an exercise's model solution, only when a learner asks."""

from django.db.models import F
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import ExerciseError, lookup
from .models import Exercise


@never_cache
@require_POST
def solution(request: HttpRequest, lesson: str, key: str) -> JsonResponse:
    """
    ``POST exercises/<lesson>/<id>/solution/`` (CSRF token in ``X-CSRFToken``):
    the solution and the checks it passes. POST because it counts (the admin shows
    how often solutions are asked for) and so that no crawler or prefetch reveals it.
    """
    try:
        exercise = lookup(f"{lesson}/{key}")
    except ExerciseError as error:
        return JsonResponse({"error": error.message}, status=error.status)
    if exercise.kind != Exercise.CODE:
        return JsonResponse({"error": "A prediction has no solution to show."}, status=404)
    Exercise.objects.filter(pk=exercise.pk).update(solutions_shown=F("solutions_shown") + 1)
    response = JsonResponse(
        {
            "exercise": exercise.global_id,
            "solution": exercise.solution,
            "checks": exercise.check_source,
        }
    )
    response["X-Robots-Tag"] = "noindex"
    return response
