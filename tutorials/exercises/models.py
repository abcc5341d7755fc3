"""
An exercise as stored when its lesson is saved, and its counters.

The checks and the solution live here, never in the lesson's HTML: the run
endpoint looks them up by the exercise's id (``tutorials.exercises.prepare``) and
the solution endpoint hands the solution out only when a learner asks for it.
The counters are counts only: nothing about a learner is stored.
"""

from __future__ import annotations

from django.db import models


class Exercise(models.Model):
    CODE = "code"
    PREDICT = "predict"
    KINDS = [(CODE, "write the code"), (PREDICT, "predict the output")]

    tutorial = models.ForeignKey(
        "tutorials.Tutorial", on_delete=models.CASCADE, related_name="exercises"
    )
    key = models.CharField("id", max_length=100, help_text="The id= in the lesson.")
    kind = models.CharField(max_length=10, choices=KINDS, default=CODE)
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200, blank=True)

    # "Write the code": what the learner starts from, the hidden checks, the answer.
    starter = models.TextField(blank=True)
    check_source = models.TextField(blank=True)
    checks = models.JSONField(default=list, blank=True, help_text='[{"name", "source"}, …]')
    solution = models.TextField(blank=True)
    # "Predict the output": the sample's expected output and the choices offered.
    expected_output = models.TextField(blank=True)
    choices = models.JSONField(default=list, blank=True)

    attempts = models.PositiveIntegerField(default=0, editable=False)
    passes = models.PositiveIntegerField(default=0, editable=False)
    solutions_shown = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        app_label = "tutorials"
        ordering = ["tutorial", "position"]
        constraints = [
            models.UniqueConstraint(fields=["tutorial", "key"], name="unique_exercise_per_lesson")
        ]

    def __str__(self) -> str:
        return self.global_id

    @property
    def global_id(self) -> str:
        """``<lesson-slug>/<id>``: what the page sends with a check run."""
        return f"{self.tutorial.slug}/{self.key}"

    @property
    def pass_rate(self) -> float | None:
        return self.passes / self.attempts if self.attempts else None
