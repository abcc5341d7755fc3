"""
What an operator checks once two instances run behind the balancer
(tests/deploy/run.sh starts them, following docs/deploying.md):

1. admin login through the balancer (Host with its port, CSRF origin check);
2. the login throttle holds through the balancer, whatever X-Forwarded-For says;
3. an edit saved on one instance shows on the other, whose page cache was warm;
4. a request id sent to the balancer comes back, and is in an instance's log
   with the real client address; one is made when none is sent;
5. /metrics answers on an instance's private address, not through the balancer.

Exits non-zero with a message on the first failure. Standard library only.
"""

from __future__ import annotations

import argparse
import html.parser
import http.cookiejar
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


class Failure(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies, no redirects followed, errors returned as responses."""

    def __init__(self) -> None:
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect()
        )

    def request(self, url: str, data: dict | list | None = None, headers: dict | None = None):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, headers=headers or {})
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        return response.status, dict(response.headers), response.read().decode("utf-8", "replace")

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.cookies if c.name == name), "")


class FormFields(html.parser.HTMLParser):
    """The values a browser would submit from the page's main form."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind not in ("submit", "button", "file", "image"):
                default = "on" if kind == "checkbox" else ""
                self.fields.append((name, attrs.get("value") or default))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields.append((self._select, attrs.get("value", "")))

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea:
            text = "".join(self._text)
            self.fields.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "select":
            self._select = None


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    expect(match is not None, "no CSRF token in the login form")
    return match.group(1)


def login(browser: Browser, base: str, username: str, password: str) -> tuple[int, dict, str]:
    status, _, page = browser.request(f"{base}/admin/login/?next=/admin/")
    expect(status == 200, f"GET {base}/admin/login/ answered {status}")
    return browser.request(
        f"{base}/admin/login/?next=/admin/",
        {
            "csrfmiddlewaretoken": csrf_token(page),
            "username": username,
            "password": password,
            "next": "/admin/",
        },
        headers={"Referer": f"{base}/admin/login/", "Origin": base},
    )


def check_login(balancer: str, username: str, password: str) -> Browser:
    browser = Browser()
    status, headers, page = login(browser, balancer, username, password)
    expect(
        status == 302 and headers.get("Location") == "/admin/",
        f"admin login through the balancer answered {status}: {page[:300]}",
    )
    # Two more pages: round-robin sends them to both instances (sessions are in the database).
    for _ in range(2):
        status, _, page = browser.request(f"{balancer}/admin/")
        expect(status == 200 and "Site administration" in page, f"/admin/ answered {status}")
    print("ok: admin login through the balancer")
    return browser


def check_throttle(balancer: str, username: str) -> None:
    """Wrong passwords from 'rotating addresses' still reach the limit through the balancer."""
    statuses = []
    for attempt in range(8):
        browser = Browser()
        status, _, page = browser.request(f"{balancer}/admin/login/")
        status, _, _ = browser.request(
            f"{balancer}/admin/login/",
            {"csrfmiddlewaretoken": csrf_token(page), "username": username, "password": "wrong"},
            headers={
                "Referer": f"{balancer}/admin/login/",
                "Origin": balancer,
                "X-Forwarded-For": f"198.51.100.{attempt + 1}",
            },
        )
        statuses.append(status)
    expect(429 in statuses, f"no 429 after 8 wrong passwords through the balancer: {statuses}")
    print(f"ok: login throttle holds through the balancer ({statuses})")


def check_cross_instance_edit(
    browser: Browser, instances: list[str], host: str, lesson_id: str, lesson_url: str
) -> None:
    a, b = instances
    headers = {"Host": host}
    for instance in instances:  # warm both page caches
        status, _, page = Browser().request(instance + lesson_url, headers=headers)
        expect(status == 200, f"{instance}{lesson_url} answered {status}")
    change = f"{a}/admin/tutorials/tutorial/{lesson_id}/change/"
    # The jar sends the session and CSRF cookies to every port of 127.0.0.1.
    session = {"Host": host, "Origin": f"http://{host}", "Referer": f"http://{host}/admin/"}
    status, _, form = browser.request(change, headers=session)
    expect(status == 200, f"the change form on instance A answered {status}")
    parser = FormFields()
    parser.feed(form)
    new_title = f"Edited on instance A {int(time.time())}"
    fields = [
        (name, new_title if name == "title" else value)
        for name, value in parser.fields
        if not name.startswith("_")
    ] + [("_save", "Save")]
    status, _, page = browser.request(change, fields, headers=session)
    expect(status == 302, f"saving the lesson on instance A answered {status}: {page[:500]}")
    deadline = time.monotonic() + 2
    while True:
        status, _, page = Browser().request(b + lesson_url, headers=headers)
        if new_title in page:
            break
        expect(time.monotonic() < deadline, "instance B still serves the old title after 2 s")
        time.sleep(0.1)
    print("ok: an edit saved on instance A shows on instance B")


def check_request_id(balancer: str, lesson_url: str, logs: list[Path]) -> None:
    sent = f"deploy-check-{int(time.time() * 1000)}"
    status, headers, _ = Browser().request(
        balancer + lesson_url, headers={"X-Request-ID": sent, "X-Forwarded-For": "203.0.113.99"}
    )
    expect(status == 200, f"{lesson_url} through the balancer answered {status}")
    expect(headers.get("X-Request-ID") == sent, f"sent {sent}, got {headers.get('X-Request-ID')}")
    status, headers, _ = Browser().request(balancer + lesson_url)
    made = headers.get("X-Request-ID", "")
    expect(re.fullmatch(r"[0-9a-f]{32}", made) is not None, f"no request id was made: {made!r}")
    deadline = time.monotonic() + 5
    while True:
        lines = [
            json.loads(line)
            for log in logs
            for line in log.read_text().splitlines()
            if sent in line and line.startswith("{")
        ]
        access = [line for line in lines if line.get("logger") == "tutorials.access"]
        if access:
            break
        expect(time.monotonic() < deadline, f"no access line with request id {sent} in {logs}")
        time.sleep(0.2)
    line = access[0]
    expect(line["request_id"] == sent and line["path"] == lesson_url, f"access line: {line}")
    # nginx appended the address it saw; the spoofed one before it is ignored (NUM_PROXIES=1).
    expect(line["client"] == "127.0.0.1", f"client should be 127.0.0.1, not {line['client']}")
    for field in ("time", "level", "method", "status", "duration_ms", "view"):
        expect(field in line, f"the access line has no {field}: {line}")
    print(f"ok: request id round trip ({sent}) and the access line: {json.dumps(line)}")


def check_metrics(balancer: str, instances: list[str], host: str, lesson_url: str) -> None:
    status, _, _ = Browser().request(f"{balancer}/metrics")
    expect(status in (403, 404), f"/metrics through the balancer answered {status}")
    for instance in instances:
        for _ in range(2):  # the second is a page-cache hit
            Browser().request(instance + lesson_url, headers={"Host": host})
        status, headers, text = Browser().request(f"{instance}/metrics", headers={"Host": host})
        expect(status == 200, f"{instance}/metrics answered {status}")
        expect("tutorials_http_requests_total{" in text, "no request counter in the scrape")
        hits = re.search(r'tutorials_page_cache_requests_total\{result="hit"\} (\S+)', text)
        expect(hits is not None and float(hits.group(1)) >= 1, "no page-cache hit counted")
        expect("tutorials_sync_last_lessons{" in text, "no sync result in the scrape")
    print("ok: /metrics scraped from both instances, refused through the balancer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--balancer", required=True)
    parser.add_argument("--instance", action="append", required=True)
    parser.add_argument("--host", required=True, help="the site's Host, for direct requests")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--lesson-id", required=True)
    parser.add_argument("--lesson-url", required=True)
    parser.add_argument("--log", action="append", type=Path, required=True)
    args = parser.parse_args()
    try:
        browser = check_login(args.balancer, args.username, args.password)
        check_cross_instance_edit(
            browser, args.instance, args.host, args.lesson_id, args.lesson_url
        )
        check_request_id(args.balancer, args.lesson_url, args.log)
        check_metrics(args.balancer, args.instance, args.host, args.lesson_url)
        check_throttle(args.balancer, args.username)  # last: it locks the address out
    except Failure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
