"""
SQLite under concurrent writers and readers: no "database is locked".

Several processes, each with the production settings (WAL, ``BEGIN IMMEDIATE``, a
busy timeout), save lessons the way the admin does, run ``sync_content`` and read
pages and search results, all at once against one database file. Run as a script,
this module is one of those processes.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = 8
DURATION = 6  # seconds each worker keeps going


def write_content(content_dir: Path, revision: int) -> None:
    section = content_dir / "01-basics"
    section.mkdir(parents=True, exist_ok=True)
    (section / "_section.yml").write_text("title: Basics\nslug: basics\norder: 1\n")
    for n in range(LESSONS):
        (section / f"lesson-{n}.md").write_text(
            f"---\ntitle: Lesson {n}\nslug: lesson-{n}\norder: {n}\nsummary: Lesson {n}.\n---\n\n"
            f"## Receivers\n\nRevision {revision} of a lesson about signal receivers.\n\n"
            "```python\nfrom django.dispatch import receiver\n```\n"
        )


@pytest.fixture
def site(tmp_path: Path) -> dict[str, str]:
    """A migrated database file with the course synced, and the environment to use it."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "concurrency-test-" + "k" * 50,
        "DJANGO_CACHE_DIR": str(tmp_path / "cache"),
        "DJANGO_CONTENT_DIR": str(tmp_path / "content"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.pop("CACHE_URL", None)
    write_content(tmp_path / "content", revision=0)
    for command in (["migrate", "--verbosity", "0"], ["sync_content", "--verbosity", "0"]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=120
        )
    return env


def test_writers_syncs_and_readers_at_once_never_hit_database_is_locked(site):
    roles = ["admin-save"] * 3 + ["sync"] + ["reader"] * 3
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.test_sqlite_concurrency", role, str(DURATION)],
            cwd=ROOT,
            env=site,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for role in roles
    ]
    results = []
    for role, worker in zip(roles, workers, strict=True):
        output, _ = worker.communicate(timeout=DURATION + 120)
        results.append((role, worker.returncode, output))
    report = "\n".join(f"{role} (exit {code}): {output.strip()}" for role, code, output in results)
    assert "locked" not in report, report
    assert all(code == 0 for _, code, _ in results), report
    # Every worker did real work, concurrently with the others.
    assert all(int(output.split()[-1]) > 0 for _, _, output in results), report


@pytest.mark.parametrize(("begin", "fails"), [("BEGIN", True), ("BEGIN IMMEDIATE", False)])
def test_read_then_write_transactions_need_begin_immediate(tmp_path, begin, fails):
    """Why the setting: a DEFERRED transaction that read before another process
    wrote cannot write at all (its snapshot is stale), however long it waits."""
    path = tmp_path / "db.sqlite3"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE lesson (id INTEGER PRIMARY KEY, views INTEGER)")
    setup.execute("INSERT INTO lesson VALUES (1, 0)")
    setup.commit()
    setup.close()
    errors = []

    def read_then_write(pause: float, delay: float) -> None:
        db = sqlite3.connect(path, timeout=5, isolation_level=None)
        try:
            time.sleep(delay)
            db.execute(begin)
            (views,) = db.execute("SELECT views FROM lesson WHERE id = 1").fetchone()
            time.sleep(pause)
            db.execute("UPDATE lesson SET views = ? WHERE id = 1", (views + 1,))
            db.execute("COMMIT")
        except sqlite3.OperationalError as error:
            errors.append(str(error))
        finally:
            db.close()

    slow = threading.Thread(target=read_then_write, args=(0.3, 0))
    quick = threading.Thread(target=read_then_write, args=(0, 0.1))
    slow.start(), quick.start()
    slow.join(), quick.join()
    assert bool(errors) is fails, errors
    if fails:
        assert "database is locked" in errors[0]
    else:
        (views,) = sqlite3.connect(path).execute("SELECT views FROM lesson").fetchone()
        assert views == 2  # and no update was lost


# The worker processes ---------------------------------------------------------------


def admin_save(deadline: float) -> int:
    """Edit lessons as the admin does: read, change, save (Markdown rendered, indexed)."""
    from django.db import transaction

    from tutorials.models import Tutorial

    ids = list(Tutorial.objects.values_list("pk", flat=True))
    saves = 0
    while time.monotonic() < deadline:
        with transaction.atomic():
            tutorial = Tutorial.objects.select_related("section").get(pk=random.choice(ids))
            tutorial.body_markdown += f"\n\nEdit {saves} by process {os.getpid()}.\n"
            tutorial.save()
        saves += 1
    return saves


def sync(deadline: float) -> int:
    """Change every file and run sync_content, again and again (the release step)."""
    from django.conf import settings
    from django.core.management import call_command

    runs = 0
    while time.monotonic() < deadline:
        write_content(Path(settings.CONTENT_DIR), revision=runs + 1)
        call_command("sync_content", force=True, verbosity=0)
        runs += 1
    return runs


def reader(deadline: float) -> int:
    """Read pages (the page cache is invalidated by every save) and search results."""
    from django.test import Client

    from tutorials.models import Tutorial

    client = Client()
    urls = [t.get_absolute_url() for t in Tutorial.objects.select_related("section")]
    reads = 0
    while time.monotonic() < deadline:
        for url in (random.choice(urls), "/", "/search/?q=receivers"):
            response = client.get(url, secure=True)  # as the HTTPS proxy forwards it
            assert response.status_code == 200, (url, response.status_code)
            reads += 1
    return reads


if __name__ == "__main__":
    import django

    django.setup()
    role, seconds = sys.argv[1], float(sys.argv[2])
    work = {"admin-save": admin_save, "sync": sync, "reader": reader}[role]
    print(f"{role} done:", work(time.monotonic() + seconds))
