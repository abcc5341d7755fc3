"""Response headers, refused requests, CSRF, the admin login throttle and /healthz."""

from __future__ import annotations

import io
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache, caches
from django.db import connection, connections
from django.http import HttpResponse
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import include, path

from tests.factories import make_section, make_tutorial
from tutorials import ratelimit

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password-1"


def boom(request):
    raise RuntimeError("a bug")


# For the 500 test: the site's URLs plus one view that fails.
urlpatterns = [path("boom/", boom), path("", include("config.urls"))]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every login attempt here checks a password: keep each one from taking 0.5 s.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def lesson():
    return make_tutorial(make_section(slug="basics"), slug="receivers")


def csp_directives(response: HttpResponse) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def assert_security_headers(response: HttpResponse) -> None:
    directives = csp_directives(response)
    assert directives["default-src"] == ["'none'"]
    for name in ("script-src", "style-src", "img-src", "font-src", "connect-src", "form-action"):
        assert directives[name] == ["'self'"], name
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/", 200),
        ("/basics/", 200),
        ("/basics/receivers/", 200),
        ("/search/?q=receivers", 200),
        ("/search.json?q=receivers", 200),
        ("/healthz", 200),
        ("/csrf-token/", 200),
        ("/no-such-page/", 404),
        ("/admin/login/", 200),
        ("/admin/", 302),
    ],
)
def test_every_response_carries_the_security_headers(client, lesson, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert_security_headers(response)


def test_cached_pages_carry_the_security_headers_too(client, lesson):
    client.get("/basics/receivers/")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/basics/receivers/")
    assert len(queries) == 0
    assert_security_headers(response)


def test_admin_pages_carry_the_security_headers(client, django_user_model):
    django_user_model.objects.create_superuser("admin", "a@example.com", PASSWORD)
    client.login(username="admin", password=PASSWORD)
    for url in ["/admin/", "/admin/tutorials/tutorial/", "/admin/tutorials/tutorial/add/"]:
        response = client.get(url)
        assert response.status_code == 200
        assert_security_headers(response)


@pytest.mark.urls(__name__)
def test_server_error_page_carries_the_security_headers():
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert_security_headers(response)


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm-cache"])
def test_bad_host_gets_400_and_one_log_line(client, lesson, warm, console_log):
    if warm:
        client.get("/basics/receivers/")
    response = client.get("/basics/receivers/", headers={"host": "evil.example.com"})
    assert response.status_code == 400
    assert b"receivers" not in response.content
    output = console_log.getvalue()
    assert "Invalid HTTP_HOST header: 'evil.example.com'" in output
    assert "Traceback" not in output


def test_oversized_body_is_refused_with_413(client):
    body = b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.generic("POST", "/admin/login/", body, "application/octet-stream")
    assert response.status_code == 413
    assert b"larger than" in response.content
    assert csp_directives(response)["default-src"] == ["'none'"]


def test_body_within_the_limit_reaches_the_site(client):
    body = b"x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = client.generic("POST", "/admin/login/", body, "application/octet-stream")
    assert response.status_code == 200  # the login form again, not a refusal


def test_overlong_url_is_refused_with_414(client):
    response = client.get("/search/", {"q": "x" * settings.REQUEST_MAX_URL_LENGTH})
    assert response.status_code == 414
    assert b"longer than" in response.content
    assert csp_directives(response)["default-src"] == ["'none'"]
    assert client.get("/search/", {"q": "receivers"}).status_code == 200


def test_post_without_a_csrf_token_is_refused(django_user_model):
    django_user_model.objects.create_superuser("admin", "a@example.com", PASSWORD)
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_post_with_the_csrf_token_logs_in(django_user_model):
    django_user_model.objects.create_superuser("admin", "a@example.com", PASSWORD)
    client = Client(enforce_csrf_checks=True)
    client.get("/admin/login/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        "/admin/login/",
        {"username": "admin", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


def fail_login(client: Client, **headers) -> HttpResponse:
    return client.post("/admin/login/", {"username": "admin", "password": "wrong"}, headers=headers)


def test_admin_login_answers_429_after_repeated_failures(client, django_user_model):
    django_user_model.objects.create_superuser("admin", "a@example.com", PASSWORD)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert fail_login(client).status_code == 200  # the form, with its error
    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed login attempts" in response.content.decode()
    assert int(response["Retry-After"]) == settings.LOGIN_FAILURE_WINDOW
    assert csp_directives(response)["default-src"] == ["'none'"]
    assert "_auth_user_id" not in client.session  # even the right password is refused
    assert client.get("/admin/login/").status_code == 200  # the form itself still shows


def test_login_lockout_is_per_address(client, django_user_model):
    django_user_model.objects.create_superuser("admin", "a@example.com", PASSWORD)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        fail_login(client)
    other = Client(REMOTE_ADDR="192.0.2.7")
    response = other.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302


def test_forwarded_for_header_is_ignored_unless_behind_a_proxy(client, django_user_model):
    django_user_model.objects.create_superuser("admin", "a@example.com", PASSWORD)
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        fail_login(client, x_forwarded_for=f"198.51.100.{n}")  # a client making up addresses
    assert fail_login(client, x_forwarded_for="198.51.100.99").status_code == 429


@override_settings(NUM_PROXIES=1)
def test_behind_a_proxy_the_forwarded_address_is_the_client(client, django_user_model):
    django_user_model.objects.create_superuser("admin", "a@example.com", PASSWORD)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        fail_login(client, x_forwarded_for="spoofed, 203.0.113.5")
    assert fail_login(client, x_forwarded_for="203.0.113.5").status_code == 429
    assert fail_login(client, x_forwarded_for="203.0.113.6").status_code == 200


def test_successful_login_forgets_earlier_failures(client, django_user_model):
    django_user_model.objects.create_superuser("admin", "a@example.com", PASSWORD)
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        fail_login(client)
    client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    client.logout()
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert fail_login(client).status_code == 200


def test_lockout_ends_when_the_window_has_passed(client, django_user_model):
    django_user_model.objects.create_superuser("admin", "a@example.com", PASSWORD)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        fail_login(client)
    assert fail_login(client).status_code == 429
    # The window is a cache expiry: end it as time would.
    request = client.get("/admin/login/").wsgi_request
    cache.delete(ratelimit.KEY_PREFIX + ratelimit.client_address(request))
    assert fail_login(client).status_code == 200


def test_failures_are_counted_with_an_expiry(client, django_user_model):
    django_user_model.objects.create_superuser("admin", "a@example.com", PASSWORD)
    with override_settings(LOGIN_FAILURE_WINDOW=1):
        fail_login(client)
    request = client.get("/admin/login/").wsgi_request
    assert ratelimit.failures(request) == 1
    time.sleep(1.2)
    assert ratelimit.failures(request) == 0
    time.sleep(1.0)  # and the cache forgets the key itself a second later
    assert cache.get(ratelimit.KEY_PREFIX + ratelimit.client_address(request)) is None


def _cache_config(backend: str, tmp_path) -> dict:
    if backend == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    if backend == "file":
        return {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    if not os.environ.get("REDIS_URL"):
        pytest.fail("REDIS_URL is not set: run the redis tests with make test-runner-redis")
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "backend", ["locmem", "file", pytest.param("redis", marks=pytest.mark.redis)]
)
def test_parallel_wrong_passwords_are_checked_at_most_the_limit(
    backend, settings, tmp_path, django_user_model
):
    """30 wrong passwords at once against a limit of 5: at most 5 are checked."""
    settings.CACHES = {**settings.CACHES, "default": _cache_config(backend, tmp_path)}
    django_user_model.objects.create_superuser("admin", "a@example.com", PASSWORD)
    checked = []

    def count_check(sender, **kwargs):
        checked.append(1)

    user_login_failed.connect(count_check, dispatch_uid="test-count-check")
    barrier = threading.Barrier(30)

    def attempt(_):
        client = Client(REMOTE_ADDR="198.51.100.30")
        barrier.wait()
        try:
            return fail_login(client).status_code
        finally:
            connections.close_all()  # this thread's own; else PostgreSQL keeps its session

    try:
        with ThreadPoolExecutor(30) as pool:
            statuses = list(pool.map(attempt, range(30)))
    finally:
        user_login_failed.disconnect(dispatch_uid="test-count-check")
        caches["default"].clear()
    assert settings.LOGIN_FAILURE_LIMIT == 5
    assert len(checked) <= 5
    assert statuses.count(200) == len(checked)
    assert statuses.count(429) == 30 - len(checked)
    # ...and the count is not stuck: the right password from elsewhere still works.
    other = Client(REMOTE_ADDR="198.51.100.31")
    assert fail_login(other).status_code == 200


def test_healthz_answers_200_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_503_without_a_traceback_when_the_database_is_down(
    client, console_log, tmp_path
):
    unreachable = dict(connection.settings_dict)
    if connection.vendor == "sqlite":
        unreachable["NAME"] = str(tmp_path / "missing-dir" / "db.sqlite3")
    else:
        unreachable["PORT"] = "1"  # nothing listens there
    # Set the open connection aside (closing an in-memory test database would
    # destroy it), so the request has to connect, to a database that is not there.
    original, open_connection = connection.settings_dict, connection.connection
    connection.connection, connection.settings_dict = None, unreachable
    try:
        response = client.get("/healthz")
    finally:
        connection.connection, connection.settings_dict = open_connection, original
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"] == "error"
    assert "Traceback" not in console_log.getvalue()
    assert client.get("/healthz").status_code == 200  # and back once it answers


def test_healthz_is_not_redirected_to_https(client):
    with override_settings(SECURE_SSL_REDIRECT=True):
        assert client.get("/healthz").status_code == 200
        assert client.get("/").status_code == 301


@override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=60)
def test_proxy_https_header_is_trusted_only_when_configured(client, lesson):
    response = client.get("/", headers={"x-forwarded-proto": "https"})
    assert response.status_code == 301
    assert "Strict-Transport-Security" not in response
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        response = client.get("/", headers={"x-forwarded-proto": "https"})
        assert response.status_code == 200
        assert response["Strict-Transport-Security"].startswith("max-age=60")


@pytest.fixture
def console_log():
    """What the site's console log handler writes during the test."""
    handlers = [h for h in logging.getLogger().handlers if hasattr(h, "setStream")]
    handler = next(h for h in handlers if h.filters)  # settings.LOGGING's "console"
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)
