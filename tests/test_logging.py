"""Structured logs: one line per event, a request id end to end, the real client,
JSON on request, and a failing dependency collapsed to one line per window."""

from __future__ import annotations

import datetime
import io
import json
import logging
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import override_settings

from config.gunicornlog import Logger as GunicornLogger
from tests.factories import make_section, make_tutorial
from tutorials import logformat
from tutorials.logfilters import RepeatedExceptions

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
LESSON_URL = "/basics/receivers/"
TEXT_LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<level>[A-Z]+) (?P<logger>\S+) "
    r"(?P<rid>\S+) (?P<message>.*)$"
)


@pytest.fixture(autouse=True)
def _empty_page_cache():
    caches["pages"].clear()
    yield
    caches["pages"].clear()


@pytest.fixture
def lesson():
    section = make_section(title="Basics", slug="basics")
    return make_tutorial(section, title="Receivers", slug="receivers")


class Capture(logging.Handler):
    """Records of the access logger, formatted as the console handler does."""

    def __init__(self, json_format: bool = False) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logformat.Formatter(json=json_format))
        self.addFilter(logformat.RequestContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        return [self.format(record) for record in self.records]


@pytest.fixture
def access():
    handler = Capture()
    logger = logging.getLogger("tutorials.access")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_every_request_gets_a_generated_id_in_its_header_and_log_line(client, lesson, access):
    response = client.get(LESSON_URL)
    rid = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    (line,) = access.lines()
    parsed = TEXT_LINE.match(line)
    assert parsed, line
    assert parsed["level"] == "INFO"
    assert parsed["logger"] == "tutorials.access"
    assert parsed["rid"] == rid
    assert parsed["message"].startswith(f"GET {LESSON_URL} 200 ")
    assert "client=127.0.0.1" in parsed["message"]
    assert "view=tutorials:lesson" in parsed["message"]
    # The timestamp is now, in UTC.
    when = datetime.datetime.strptime(parsed["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    assert abs((now - when).total_seconds()) < 60


def test_the_balancers_request_id_is_kept_and_returned(client, lesson, access):
    response = client.get(LESSON_URL, headers={"X-Request-ID": "edge-42.abc"})
    assert response.headers["X-Request-ID"] == "edge-42.abc"
    assert access.records[0].request_id == "edge-42.abc"


@pytest.mark.parametrize("sent", ["two words", "x" * 129, "evil\u2028line", "a;b", ""])
def test_a_request_id_that_could_forge_a_log_line_is_replaced(client, lesson, access, sent):
    response = client.get(LESSON_URL, headers={"X-Request-ID": sent})
    assert response.headers["X-Request-ID"] != sent
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_a_page_cache_hit_is_logged_with_its_own_id_and_header(client, lesson, access):
    first = client.get(LESSON_URL)
    second = client.get(LESSON_URL, headers={"X-Request-ID": "hit-1"})
    assert first.status_code == second.status_code == 200
    # The second answer came from the page cache (the stored response), yet it
    # carries its own id, not the stored one.
    assert first.headers["X-Request-ID"] != "hit-1"
    assert second.headers["X-Request-ID"] == "hit-1"
    assert [record.request_id for record in access.records] == [
        first.headers["X-Request-ID"],
        "hit-1",
    ]
    assert access.records[1].view == "tutorials:lesson"
    assert access.records[1].status == 200


def test_a_304_from_the_page_cache_is_logged_too(client, lesson, access):
    etag = client.get(LESSON_URL).headers["ETag"]
    response = client.get(LESSON_URL, headers={"If-None-Match": etag, "X-Request-ID": "r304"})
    assert response.status_code == 304
    assert response.headers["X-Request-ID"] == "r304"
    assert access.records[-1].status == 304


@override_settings(NUM_PROXIES=1)
def test_the_access_line_has_the_real_client_behind_the_balancer(client, lesson, access):
    client.get(LESSON_URL, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.7")
    assert access.records[0].client == "203.0.113.7"


def test_the_access_line_without_proxies_ignores_x_forwarded_for(client, lesson, access):
    client.get(LESSON_URL, REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert access.records[0].client == "198.51.100.4"


def test_json_lines_carry_every_field(client, lesson):
    handler = Capture(json_format=True)
    logger = logging.getLogger("tutorials.access")
    logger.addHandler(handler)
    try:
        client.post("/search/?q=x", headers={"X-Request-ID": "json-1"})
    finally:
        logger.removeHandler(handler)
    (line,) = handler.lines()
    assert "\n" not in line
    fields = json.loads(line)
    assert fields["request_id"] == "json-1"
    assert fields["level"] == "INFO"
    assert fields["logger"] == "tutorials.access"
    assert fields["method"] == "POST"
    assert fields["path"] == "/search/?q=x"
    assert fields["status"] == 405
    assert fields["client"] == "127.0.0.1"
    assert isinstance(fields["duration_ms"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", fields["time"])


def test_lines_logged_while_serving_a_request_carry_its_id(client, lesson):
    handler = Capture()
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client.get("/no-such-section/no-such-lesson/", headers={"X-Request-ID": "nf-1"})
    finally:
        logger.removeHandler(handler)
    assert handler.records, "Django logs a 404 as a warning"
    assert {record.request_id for record in handler.records} == {"nf-1"}
    assert logformat.request_id.get() == "-"  # reset once the request is answered


def test_a_json_traceback_stays_on_one_line():
    formatter = logformat.Formatter(json=True)
    try:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    except ConnectionError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    line = formatter.format(record)
    assert "\n" not in line
    assert "ConnectionError" in json.loads(line)["exc"]


def _error_record(message: str = "Internal Server Error: /x") -> logging.LogRecord:
    try:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    except ConnectionError:
        return logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, message, None, sys.exc_info()
        )


def test_a_failing_dependency_is_one_line_per_window_not_a_traceback_per_request():
    now = [1000.0]
    collapse = RepeatedExceptions(window=10, clock=lambda: now[0])
    first = _error_record()
    assert collapse.filter(first) and first.exc_info  # the first keeps its traceback
    # 500 requests in the next 9 seconds: none is logged.
    for i in range(500):
        now[0] = 1000 + i * 9 / 500
        assert not collapse.filter(_error_record(f"Internal Server Error: /page-{i}"))
    # After the window: one line, no traceback, saying how many were dropped.
    now[0] = 1010.5
    later = _error_record("Internal Server Error: /y")
    assert collapse.filter(later)
    assert later.exc_info is None
    message = later.getMessage()
    assert "\n" not in message
    assert "500 more dropped" in message
    assert "ConnectionError" in message and "Connection refused" in message


def test_different_failures_are_each_logged():
    collapse = RepeatedExceptions(window=10, clock=lambda: 0.0)
    assert collapse.filter(_error_record())
    try:
        raise ValueError("another bug")
    except ValueError:
        other = logging.LogRecord("django.request", 40, __file__, 1, "x", None, sys.exc_info())
    assert collapse.filter(other)
    plain = logging.LogRecord("django.request", 30, __file__, 1, "Not Found: /x", None, None)
    assert collapse.filter(plain) and collapse.filter(plain)  # no exception: never dropped


def test_an_unreachable_redis_logs_a_few_lines_not_a_traceback_per_request(tmp_path):
    """The real settings, pointed at a closed port, serving 200 requests."""
    script = (
        "import django, logging; django.setup();\n"
        "from django.test import Client\n"
        "c = Client(raise_request_exception=False)\n"
        "for i in range(200): c.get('/', headers={'X-Request-ID': f'r{i}'})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "x" * 50,
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CACHE_URL": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = result.stderr.splitlines()
    access_lines = [line for line in lines if " tutorials.access " in line]
    assert len(access_lines) == 200, result.stderr[-2000:]
    # Everything else (one traceback, then nothing within the 10 s window) is small.
    assert len(lines) - len(access_lines) < 120, result.stderr[-3000:]
    assert result.stderr.count("Traceback (most recent call last)") <= 2


def test_gunicorns_access_log_writes_the_same_fields():
    cfg = types.SimpleNamespace(
        loglevel="info",
        errorlog="-",
        accesslog="-",
        syslog=False,
        capture_output=False,
        access_log_format="",
        disable_redirect_access_to_syslog=False,
        logconfig=None,
        logconfig_dict={},
        logconfig_json=None,
        user=0,
        group=0,
    )
    logger = GunicornLogger(cfg)
    stream = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.setStream(stream)
    resp = types.SimpleNamespace(status="200 OK", headers=[("X-Request-ID", "g-1")], sent=10)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/basics/?a=1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_X_FORWARDED_FOR": "203.0.113.5",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    with override_settings(NUM_PROXIES=1):
        logger.access(resp, None, environ, datetime.timedelta(milliseconds=12))
    parsed = TEXT_LINE.match(stream.getvalue().strip())
    assert parsed, stream.getvalue()
    assert parsed["logger"] == "gunicorn.access"
    assert parsed["rid"] == "g-1"
    assert parsed["message"] == "GET /basics/?a=1 200 12.0ms client=203.0.113.5 view=-"
