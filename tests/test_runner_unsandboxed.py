"""
No learner code runs outside bubblewrap unless the operator says so in words
(RUNNER_ALLOW_UNSANDBOXED=1); DEBUG never implies it. Without bubblewrap the
course is still served, and the endpoint, the page and `manage.py check` say
that running is unavailable and how to install bubblewrap.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.factories import make_tutorial
from tutorials.runner.process import run_cold
from tutorials.runner.testing import isolate, run_url

LESSON = """\
## Saving

```python run
print("hello")
```

```output
hello
```
"""


@pytest.fixture(autouse=True)
def no_bubblewrap(settings, tmp_path_factory):
    """The host without bubblewrap, in development (DEBUG on), as on a Mac."""
    isolate(settings, tmp_path_factory.getbasetemp())
    settings.RUNNER_POOL_SIZE = 0
    settings.RUNNER_BWRAP = "/nonexistent/bwrap"
    settings.DEBUG = True


def post(settings, code: str):
    return Client().post(run_url(settings), {"code": code}, content_type="application/json")


def test_the_endpoint_refuses_with_how_to_install_bubblewrap(settings):
    response = post(settings, "print(open('/etc/passwd').read())")
    assert response.status_code == 503
    error = response.json()["error"]
    assert "Running code is unavailable" in error
    assert "apt-get install bubblewrap" in error


def test_the_status_says_unavailable_and_why(settings):
    run_url(settings)
    data = Client().get(reverse("runner:status")).json()
    assert data["available"] is False
    assert "bubblewrap" in data["reason"]
    assert "apt-get install bubblewrap" in data["reason"]


def test_no_run_path_falls_back_silently(settings):
    # The command-line runner and the samples check go through the same refusal.
    result = run_cold("print('should not run')")
    assert result.text == ""
    assert result.stopped == "error"
    assert "apt-get install bubblewrap" in result.error


def test_the_operator_can_allow_unsandboxed_runs_in_words(settings):
    settings.RUNNER_ALLOW_UNSANDBOXED = True
    response = post(settings, "print('my own code')")
    assert response.status_code == 200
    data = response.json()
    assert data["sandbox"] == "fallback"
    assert data["output"] == [{"stream": "stdout", "text": "my own code\n"}]
    assert "WITHOUT the bubblewrap sandbox" in data["warning"]


@pytest.mark.parametrize(
    ("value", "allowed"), [(None, False), ("", False), ("0", False), ("1", True)]
)
def test_the_setting_is_read_from_the_environment_and_off_by_default(value, allowed):
    env = {k: v for k, v in os.environ.items() if k != "RUNNER_ALLOW_UNSANDBOXED"}
    env["DJANGO_DEBUG"] = "1"
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    if value is not None:
        env["RUNNER_ALLOW_UNSANDBOXED"] = value
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); "
            "from tutorials.runner.sandbox import allow_unsandboxed; print(allow_unsandboxed())",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert done.stdout.strip() == str(allowed)


def test_manage_py_check_says_running_is_unavailable_and_how_to_fix_it(capsys):
    call_command("check")
    out = capsys.readouterr()
    text = out.out + out.err
    assert "runner.W002" in text
    assert "running code samples is unavailable" in text
    assert "apt-get install bubblewrap" in text


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_run_area_of_each_sample_says_so_and_how_to_install(page: Page, settings):
    run_url(settings)
    page.goto(make_tutorial(body_markdown=LESSON + LESSON).get_absolute_url())
    # The course itself is served: the lesson and its code are there.
    expect(page.locator(".runnable-code").first).to_contain_text('print("hello")')
    statuses = page.locator(".runnable").get_by_role("status")
    expect(statuses).to_have_count(2)
    for index in range(2):
        expect(statuses.nth(index)).to_contain_text("Running code is unavailable")
        expect(statuses.nth(index)).to_contain_text("sudo apt-get install bubblewrap")
    for button in page.get_by_role("button", name="Run").all():
        expect(button).to_be_disabled()
    assert page.problems == []
