"""
A new lesson file with complete front matter and a starter structure.

``manage.py new_lesson SECTION "Title"`` calls :func:`new_lesson`. The file is a
draft (``published: false``) that passes ``sync_content --check`` as created: its
sample's output is what the runner really prints, and its exercise's starter code
fails the check while its solution passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.utils.text import slugify

SECTION_FILE = "_section.yml"
FRONT_MATTER_ORDER = re.compile(r"^order:\s*(\d+)\s*$", re.MULTILINE)

SAMPLE = """\
from django.db import models
from django.db.models.signals import post_save
from django.dispatch import receiver

class Note(models.Model):
    text = models.CharField(max_length=100)

@receiver(post_save, sender=Note)
def announce(sender, instance, created, **kwargs):
    print(f"post_save: {instance.text!r}, created={created}")

Note.objects.create(text="hello")
"""

EXERCISE = """\
from django.db import models
from django.db.models.signals import post_save

class Note(models.Model):
    text = models.CharField(max_length=100)

saved = []

# Connect a receiver that appends each saved note's text to `saved`.
"""

CHECK = """\
Note.objects.create(text="first")
assert saved == ["first"], "Saving a Note should append its text to `saved` once."
"""

SOLUTION = """\
from django.db import models
from django.db.models.signals import post_save
from django.dispatch import receiver

class Note(models.Model):
    text = models.CharField(max_length=100)

saved = []

@receiver(post_save, sender=Note)
def remember(sender, instance, **kwargs):
    saved.append(instance.text)
"""


class ScaffoldError(Exception):
    """The lesson cannot be created (unknown section, file exists, ...)."""


@dataclass(frozen=True)
class NewLesson:
    path: Path
    url: str
    slug: str
    order: int


def find_section(content_dir: Path, section: str) -> tuple[Path, dict]:
    """The section folder whose slug or folder name is ``section``."""
    if not content_dir.is_dir():
        raise ScaffoldError(f"{content_dir} is not a folder")
    known = []
    for folder in sorted(p for p in content_dir.iterdir() if (p / SECTION_FILE).is_file()):
        meta = yaml.safe_load((folder / SECTION_FILE).read_text(encoding="utf-8")) or {}
        known.append(str(meta.get("slug", folder.name)))
        if section in (folder.name, meta.get("slug")):
            return folder, meta
    raise ScaffoldError(
        f"no section {section!r} in {content_dir} (known: {', '.join(known) or 'none'})"
    )


def next_order(folder: Path) -> int:
    """One more than the highest ``order`` of the section's lessons (1 when empty)."""
    orders = [0]
    for path in folder.glob("*.md"):
        head = path.read_text(encoding="utf-8").split("\n---", 1)[0]
        orders += [int(m) for m in FRONT_MATTER_ORDER.findall(head)]
    return max(orders) + 1


def sample_output(code: str) -> str | None:
    """What the runner prints for ``code``; None when no sandbox can run it here."""
    from .runner.process import run_cold
    from .runner.samples import normalize

    result = run_cold(code)
    if result.error or not result.ok:
        return None
    return normalize(result.text)


def render(title: str, slug: str, order: int, output: str | None) -> str:
    front = yaml.safe_dump(
        {
            "title": title,
            "slug": slug,
            "order": order,
            "summary": f"TODO: one sentence on what {title} teaches.",
            "published": False,
            "references": [
                {
                    "title": "Signals (Django 5.2 documentation)",
                    "url": "https://docs.djangoproject.com/en/5.2/topics/signals/",
                }
            ],
        },
        sort_keys=False,
        allow_unicode=True,
        width=88,
    )
    output_block = f"\n```output\n{output}```\n" if output is not None else ""
    return f"""---
{front}---

TODO: an introduction. Say what problem this lesson solves, in two or three short
sentences, and what the reader will be able to do at the end.

## A first example

TODO: explain the sample. Press **Run** on the page to see the signals it sends.

```python run
{SAMPLE}```
{output_block}
### Exercise: remember every saved note

TODO: the task, in prose. Connect a receiver so that saving a `Note` appends its
text to the list `saved`.

```python exercise id=remember-notes
{EXERCISE}```

```python check
{CHECK}```

```python solution
{SOLUTION}```

```hint
Use `@receiver(post_save, sender=Note)` and append `instance.text`.
```

## Key points

- TODO: the one thing to remember.
- TODO: the trap to avoid.
"""


def new_lesson(
    content_dir: Path, section: str, title: str, *, run_sample: bool = True
) -> NewLesson:
    """Create a draft lesson file in ``section``; raise ScaffoldError when it cannot."""
    title = title.strip()
    if not title:
        raise ScaffoldError("the title is empty")
    slug = slugify(title)
    if not slug:
        raise ScaffoldError(f"cannot make a slug from {title!r}; use letters or digits")
    folder, meta = find_section(Path(content_dir), section)
    path = folder / f"{slug}.md"
    if path.exists():
        raise ScaffoldError(f"{path} already exists")
    for other in folder.glob("*.md"):
        if re.search(rf"^slug:\s*{re.escape(slug)}\s*$", other.read_text(encoding="utf-8"), re.M):
            raise ScaffoldError(f"{other} already uses the slug {slug!r}")
    order = next_order(folder)
    output = sample_output(SAMPLE) if run_sample else None
    path.write_text(render(title, slug, order, output), encoding="utf-8")
    return NewLesson(
        path=path, url=f"/{meta.get('slug', folder.name)}/{slug}/", slug=slug, order=order
    )
