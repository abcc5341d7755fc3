"""
What a learner sees of the site, as JSON, from the database in DATABASE_URL:
the course (sections and lessons, with their rendered pages), search results
for a few queries, and the redirects of renamed lessons (when this version of
the site keeps them). tests/deploy/run.sh prints it before a backup and after
the restore; the two must be equal.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

QUERIES = ["receiver", "post_save", "transaction on_commit", "bulk create", "dispatch_uid"]


def snapshot() -> dict:
    from django.apps import apps

    from tutorials import search
    from tutorials.models import Section, Tutorial

    course = [
        {
            "section": [section.slug, section.title, section.order],
            "lessons": [
                [
                    lesson.slug,
                    lesson.title,
                    lesson.order,
                    lesson.published,
                    hashlib.sha256(lesson.body_html.encode()).hexdigest(),
                ]
                for lesson in Tutorial.objects.filter(section=section).order_by("order", "slug")
            ],
        }
        for section in Section.objects.order_by("order", "slug")
    ]
    results = {query: [hit.url for hit in search.search(query).hits] for query in QUERIES}
    redirects = []
    for model in apps.get_app_config("tutorials").get_models():
        if "redirect" in model.__name__.lower():
            fields = [field.attname for field in model._meta.concrete_fields if field.name != "id"]
            redirects += [
                [model.__name__, *row]
                for row in model.objects.order_by(*fields).values_list(*fields)
            ]
    return {"course": course, "search": results, "redirects": redirects}


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    data = snapshot()
    assert sum(len(section["lessons"]) for section in data["course"]) > 0, "no course"
    assert any(data["search"].values()), "no search results"
    print(json.dumps(data, indent=1, sort_keys=True, default=str))


if __name__ == "__main__":
    main()
