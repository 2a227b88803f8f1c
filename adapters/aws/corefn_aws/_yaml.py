"""A tiny YAML writer for generated CloudFormation / SAM templates.

The generator must not need PyYAML at deploy time, and CloudFormation's short-form tags
(``!Ref``) are not needed either: the long forms (``{"Ref": ...}``, ``{"Fn::Sub": ...}``) are
plain mappings. Strings that could be misread (numbers, booleans, ``:``, ``#``, braces) are
written as JSON strings, which YAML reads as double-quoted scalars.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_PLAIN = re.compile(r"[A-Za-z_/$][A-Za-z0-9_./$-]*")
_RESERVED = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, Mapping) and not value:
        return "{}"
    if isinstance(value, (list, tuple)) and not value:
        return "[]"
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def _is_block(value: Any) -> bool:
    return isinstance(value, (Mapping, list, tuple)) and bool(value)


def _lines(value: Any, indent: int) -> list[str]:
    pad = "  " * indent
    out: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if _is_block(item):
                out.append(f"{pad}{scalar(key)}:")
                out.extend(_lines(item, indent + 1))
            else:
                out.append(f"{pad}{scalar(key)}: {scalar(item)}")
    else:
        for item in value:
            if _is_block(item):
                inner = _lines(item, indent + 1)
                out.append(f"{pad}- {inner[0].lstrip()}")
                out.extend(inner[1:])
            else:
                out.append(f"{pad}- {scalar(item)}")
    return out


def dump(document: Mapping[str, Any], comment: str = "") -> str:
    """``document`` as block YAML, with ``comment`` lines on top; top-level keys are separated
    by a blank line for readability."""
    head = [f"# {line}".rstrip() for line in comment.splitlines()]
    body: list[str] = []
    for key, item in document.items():
        if body:
            body.append("")
        body.extend(_lines({key: item}, 0))
    return "\n".join(head + body) + "\n"
