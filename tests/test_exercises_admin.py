"""Admin: attempts and pass rate per exercise (counts only), beside the failed searches."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from tests.factories import make_tutorial
from tests.test_exercises_endpoint import LESSON
from tutorials.exercises.models import Exercise

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = User.objects.create_superuser("admin", "admin@example.com", "a-long-password-123")
    client.force_login(user)
    return client


def test_admin_lists_attempts_and_pass_rate_hardest_first(staff_client):
    make_tutorial(slug="orders", body_markdown=LESSON)
    Exercise.objects.filter(key="invoice-once").update(attempts=4, passes=1, solutions_shown=2)
    Exercise.objects.filter(key="predict-1").update(attempts=2, passes=2)
    page = staff_client.get(reverse("admin:tutorials_exercise_changelist")).content.decode()
    assert "orders/invoice-once" in page and "orders/predict-1" in page
    assert "25%" in page and "100%" in page
    assert page.index("orders/invoice-once") < page.index("orders/predict-1")


def test_exercises_sit_beside_the_searches_that_found_nothing(staff_client):
    index = staff_client.get(reverse("admin:index")).content.decode()
    assert "Exercises" in index and "Searches that found nothing" in index


def test_exercises_are_read_only_in_admin(staff_client):
    make_tutorial(slug="orders", body_markdown=LESSON)
    row = Exercise.objects.get(key="invoice-once")
    assert staff_client.get(reverse("admin:tutorials_exercise_add")).status_code == 403
    change = staff_client.get(reverse("admin:tutorials_exercise_change", args=[row.pk]))
    assert change.status_code == 200
    assert "create_invoice" not in change.content.decode()  # counts only, not the solution
    assert 'name="attempts"' not in change.content.decode()
