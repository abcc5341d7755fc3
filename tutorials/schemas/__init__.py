"""
JSON Schemas of lesson front matter and ``_section.yml``.

The same files drive editor help (``.vscode/settings.json`` points the YAML
extension at them) and ``sync_content``'s validation (``problems()``), so the two
never disagree.
"""

from __future__ import annotations

import datetime
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_DIR = Path(__file__).resolve().parent
KINDS = ("lesson", "section")


FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    # ISO 8601 as Python reads it ("2026-12-01T09:00:00Z", "2026-12-01 09:00+01:00").
    return not isinstance(value, str) or bool(datetime.datetime.fromisoformat(value))


@cache
def validator(kind: str) -> Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=FORMATS)


def _as_json(value: Any) -> Any:
    """YAML reads timestamps as datetimes; the schema describes them as strings."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    return value


def problems(kind: str, data: Any) -> list[str]:
    """Each way ``data`` breaks the schema of ``kind``, worded for an author."""
    found = []
    for error in sorted(validator(kind).iter_errors(_as_json(data)), key=lambda e: e.path):
        where = ".".join(str(part) for part in error.absolute_path)
        message = error.message
        if error.validator == "additionalProperties":
            allowed = ", ".join(sorted(error.schema.get("properties", {})))
            message = f"{message} (allowed: {allowed})"
        found.append(f"{where}: {message}" if where else message)
    return found
