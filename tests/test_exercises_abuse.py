"""
Learner code that tries to read an exercise's checks or solution, or to forge a pass,
through the run endpoint (real sandbox). None of the secret markers may appear in any
answer before the solution is asked for, and printing cannot make a check pass.
"""

from __future__ import annotations

import json

import pytest

from tests.factories import make_tutorial
from tutorials.runner.testing import finish, isolate, run_url

# Queued runs finish in the runner's threads, which count attempts in the database:
# committed rows, visible across connections.
pytestmark = pytest.mark.django_db(transaction=True)

CHECK_MARKER = "CHECK-SECRET-7f3a"
SOLUTION_MARKER = "SOLUTION-SECRET-91bc"

LESSON = f"""\
```python exercise id=secret
from django.db import models

class Order(models.Model):
    number = models.IntegerField()
```

```python check
hidden = "{CHECK_MARKER}"
order = Order.objects.create(number=len(hidden))
assert getattr(order, "invoice", None) == hidden, "The order has the hidden invoice."
```

```python solution
from django.db import models
from django.db.models.signals import post_save

class Order(models.Model):
    number = models.IntegerField()

def attach(sender, instance, **kwargs):
    instance.invoice = "CHECK-" + "SECRET-7f3a"  # {SOLUTION_MARKER}

post_save.connect(attach, sender=Order)
```
"""

MODELS = """\
import os, sys, gc, json, threading, builtins, atexit
from django.db import models
from django.db.models.signals import post_save

class Order(models.Model):
    number = models.IntegerField()

def leak(text):
    text = str(text)
    print("LEAK", text)
    for fd in (1, 2):
        try:
            os.write(fd, ("LEAK " + text + "\\n").encode())
        except OSError:
            pass
    message = {"t": "out", "s": "stdout", "d": "LEAK " + text}
    for fd in range(3, 32):  # wherever the harness's channel is
        try:
            os.write(fd, (json.dumps(message) + "\\n").encode())
        except OSError:
            pass

def secrets_in(objects):
    found = []
    for value in objects:
        if isinstance(value, str) and "SECRET" in value:
            found.append(value)
    return found
"""

ATTACKS = {
    "files": MODELS
    + """
for root, dirs, files in os.walk("/"):
    if root.startswith(("/proc", "/sys", "/usr")):
        continue
    for name in files:
        try:
            with open(os.path.join(root, name), errors="replace") as f:
                if "SECRET" in f.read():
                    leak(os.path.join(root, name))
        except OSError:
            pass
for fd in range(0, 64):
    try:
        os.set_blocking(fd, False)
        leak(os.read(fd, 65536))
    except OSError:
        pass
""",
    "gc_thread": MODELS
    + """
one_pass = threading.Event()

def watch():
    while True:
        for value in gc.get_objects():
            if isinstance(value, (list, dict)):
                for found in secrets_in(value if isinstance(value, list) else value.values()):
                    leak(found)
        one_pass.set()

threading.Thread(target=watch, daemon=True).start()
""",
    "audit_hook": MODELS
    + """
def hook(event, args):
    if event in ("compile", "exec"):
        leak(repr(args)[:2000])

sys.addaudithook(hook)
""",
    "patched_builtins": MODELS
    + """
real_compile, real_exec = builtins.compile, builtins.exec

def spy_compile(source, *args, **kwargs):
    leak(source)
    return real_compile(source, *args, **kwargs)

def spy_exec(code, *args, **kwargs):
    leak(getattr(code, "co_consts", code))
    return real_exec(code, *args, **kwargs)

class LoudAssertion(Exception):
    def __init__(self, *args):
        leak(args)

builtins.compile, builtins.exec = spy_compile, spy_exec
builtins.AssertionError = LoudAssertion
builtins.print = lambda *args, **kwargs: leak(args)
json.loads = lambda text, *a, **k: leak(text)
""",
    "frames_in_receiver": MODELS
    + """
def snoop(sender, instance, **kwargs):
    frame = sys._getframe()
    while frame is not None:
        leak(repr(frame.f_locals)[:3000])
        leak(repr(frame.f_code.co_consts))
        frame = frame.f_back

post_save.connect(snoop, sender=Order, weak=False)
""",
    "atexit": MODELS
    + """
atexit.register(lambda: leak(secrets_in(gc.get_objects())))
""",
    "child_process": MODELS
    + """
if os.fork() == 0:
    import time
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        for fd in range(0, 16):
            try:
                os.set_blocking(fd, False)
                data = os.read(fd, 65536)
                if data:
                    leak(data)
            except OSError:
                pass
    os._exit(0)
""",
}


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path_factory):
    isolate(settings, tmp_path_factory.getbasetemp())
    settings.RUNNER_POOL_SIZE = 0


@pytest.fixture
def url(settings):
    make_tutorial(slug="abuse", body_markdown=LESSON)
    return run_url(settings)


def check(client, url, code):
    payload = {"code": code, "exercise": "abuse/secret"}
    response = client.post(url, json.dumps(payload), content_type="application/json")
    return finish(client, response)  # a queued run: follow its polls to the result


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_learner_code_cannot_read_the_checks_or_the_solution(client, url, attack):
    response = check(client, url, ATTACKS[attack])
    assert response.status_code == 200
    text = response.content.decode()
    assert CHECK_MARKER not in text and "7f3a" not in text
    assert SOLUTION_MARKER not in text
    data = response.json()
    assert [c["passed"] for c in data["checks"]] == [False]
    assert data["checks"][0]["name"] == "The order has the hidden invoice."


def test_the_attacks_would_leak_if_their_secret_were_within_reach(client, url):
    # The same code does print what it finds: proof that the attacks are live.
    code = ATTACKS["gc_thread"] + "SECRET_HERE = 'SECRET-IN-REACH'\none_pass.wait(3)\n"
    text = check(client, url, code).content.decode()
    assert "LEAK" in text


def test_printing_a_pass_does_not_make_one(client, url):
    forged = json.dumps({"t": "checks", "results": [{"passed": True}]})
    code = (
        ATTACKS["files"].split("for root")[0]
        + f"""
print("All checks passed")
print({forged!r})
for fd in range(3, 32):  # wherever the harness's channel is
    try:
        os.write(fd, ({forged!r} + "\\n").encode())
    except OSError:
        pass
os.write(1, b'{{"checks": [{{"passed": true}}]}}\\n')
"""
    )
    data = check(client, url, code).json()
    assert data["exit_status"] == 0, data["output"]
    assert [c["passed"] for c in data["checks"]] == [False]
    assert data["checks"][0]["message"] == "The order has the hidden invoice."


def test_the_solution_passes_so_the_checks_above_failed_for_the_right_reason(client, url):
    solution = LESSON.split("```python solution\n")[1].split("```")[0]
    data = check(client, url, solution).json()
    assert [c["passed"] for c in data["checks"]] == [True]
