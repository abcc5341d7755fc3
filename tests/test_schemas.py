"""The JSON Schemas editors use are the ones sync_content enforces."""

import json
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tutorials import content, schemas

ROOT = Path(settings.BASE_DIR)


def front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n", 2)[1])


@pytest.mark.parametrize(
    "path", sorted(Path(settings.CONTENT_DIR).glob("*/*.md")), ids=lambda p: p.name
)
def test_every_lesson_matches_the_lesson_schema(path):
    assert schemas.problems("lesson", front_matter(path)) == []


@pytest.mark.parametrize(
    "path", sorted(Path(settings.CONTENT_DIR).glob("*/_section.yml")), ids=lambda p: p.parent.name
)
def test_every_section_file_matches_the_section_schema(path):
    assert schemas.problems("section", yaml.safe_load(path.read_text(encoding="utf-8"))) == []


def test_the_editor_settings_point_at_the_schemas():
    mapping = json.loads((ROOT / ".vscode" / "settings.json").read_text())["yaml.schemas"]
    assert {Path(ROOT / schema).resolve() for schema in mapping} == {
        schemas.SCHEMA_DIR / "lesson.schema.json",
        schemas.SCHEMA_DIR / "section.schema.json",
    }
    assert "content/**/_section.yml" in mapping.values()


def test_schema_keys_are_the_keys_sync_accepts():
    lesson = json.loads((schemas.SCHEMA_DIR / "lesson.schema.json").read_text())
    section = json.loads((schemas.SCHEMA_DIR / "section.schema.json").read_text())
    assert set(lesson["properties"]) == content.LESSON_KEYS
    assert set(section["properties"]) == content.SECTION_KEYS


LESSON = "---\n{meta}---\n\nBody.\n"
GOOD = "title: T\nslug: t\norder: 1\n"


@pytest.mark.parametrize(
    "meta, problem",
    [
        (GOOD + "summary: " + "x" * 301 + "\n", "summary"),
        (GOOD + "references:\n  - {title: T, url: 'x', extra: 1}\n", "references.0"),
        (GOOD + "publish_at: tomorrow\n", "publish_at"),
        ("title: ''\nslug: t\norder: 1\n", "title"),
    ],
)
def test_a_file_the_schema_rejects_is_an_error_for_sync(tmp_path, meta, problem):
    assert any(p.startswith(problem) for p in schemas.problems("lesson", yaml.safe_load(meta)))
    (tmp_path / "01-s").mkdir()
    (tmp_path / "01-s" / "_section.yml").write_text("title: S\nslug: s\norder: 1\n")
    (tmp_path / "01-s" / "t.md").write_text(LESSON.format(meta=meta))
    loaded = content.load(tmp_path)
    assert [error.path for error in loaded.errors] == ["01-s/t.md"]
