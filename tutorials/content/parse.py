"""
Reading one file: bytes to text, front matter to a mapping, the Markdown body.

No rule about what the keys mean lives here (that is ``validate.py``): this only
turns a file into text and a mapping, or raises ``FileProblem`` with the line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import FileProblem


@dataclass(frozen=True)
class RawFile:
    """A file split into its front matter (a mapping) and its Markdown body."""

    meta: dict[str, Any]
    body: str
    body_line: int  # line number of the body's first line in the file
    hash: str  # sha256 of the file's bytes


def read_text(path: Path) -> tuple[str, bytes]:
    """The file's text (UTF-8) and bytes; a bad byte is reported with its line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileProblem(f"cannot be read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileProblem(f"invalid UTF-8 (byte 0x{data[exc.start]:02x})", line) from None


def parse_yaml(text: str, first_line: int) -> dict[str, Any]:
    """A YAML mapping (empty for an empty text); ``first_line`` places errors in the file."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        line = first_line + mark.line if mark is not None else first_line
        raise FileProblem(f"bad YAML: {problem}", line) from None
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise FileProblem("front matter must be a mapping of keys to values", first_line)
    return value


def read_yaml_file(path: Path) -> RawFile:
    """A whole-YAML file (``_section.yml``): its mapping, no body."""
    text, data = read_text(path)
    return RawFile(parse_yaml(text, 1), "", 0, hashlib.sha256(data).hexdigest())


def read_front_matter_file(path: Path) -> RawFile:
    """A lesson file: front matter between ``---`` lines, then Markdown."""
    text, data = read_text(path)
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise FileProblem("must start with front matter: a '---' line, YAML, a '---' line", 1)
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
    except StopIteration:
        raise FileProblem("front matter is not closed by a '---' line", 1) from None
    meta = parse_yaml("".join(lines[1:end]), 2)
    body = "".join(lines[end + 1 :]).strip("\n") + "\n"
    return RawFile(meta, body, end + 2, hashlib.sha256(data).hexdigest())
