"""The server-error page: 503 with Retry-After while the database is unreachable."""

from __future__ import annotations

import pytest
from django.db.utils import OperationalError
from django.test import Client

from tutorials import views


@pytest.fixture
def client():
    return Client(raise_request_exception=False)  # as in production: the error page


def test_an_unreachable_database_is_a_503_to_retry_not_a_500(client, monkeypatch, db):
    def down(request):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')

    monkeypatch.setattr(views, "roadmap", down)
    response = client.get("/django-signals/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "briefly unavailable" in page and "database cannot be reached" in page
    assert "5432" not in page and "Traceback" not in page


def test_any_other_error_is_the_plain_500_page(client, monkeypatch, db):
    def broken(request):
        raise ValueError("a bug")

    monkeypatch.setattr(views, "roadmap", broken)
    response = client.get("/django-signals/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "Something went wrong" in response.content.decode()
    assert "a bug" not in response.content.decode()
