"""A small, fast block-style YAML emitter for JSON-like data (status blocks).

Deterministic (the same data always gives the same bytes) and an order of magnitude faster than a
general YAML representer, which matters when thousands of manifests get a status.
"""

from __future__ import annotations

import json
import re
from typing import Any

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./@+()-]*(?: [A-Za-z0-9_./@+()-]+)*")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def _emit(value: Any, indent: int, out: list[str]) -> None:
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            name = scalar(str(key))
            if (isinstance(item, dict) and item) or (isinstance(item, list) and item):
                out.append(f"{pad}{name}:\n")
                _emit(item, indent + 2, out)
            else:
                out.append(f"{pad}{name}: {_inline(item)}\n")
        return
    for item in value:
        if isinstance(item, dict) and item:
            first = True
            for key, sub in item.items():
                lead = f"{pad}- " if first else f"{pad}  "
                first = False
                name = scalar(str(key))
                if isinstance(sub, dict | list) and sub:
                    out.append(f"{lead}{name}:\n")
                    _emit(sub, indent + 4, out)
                else:
                    out.append(f"{lead}{name}: {_inline(sub)}\n")
        elif isinstance(item, list) and item:
            out.append(f"{pad}-\n")
            _emit(item, indent + 2, out)
        else:
            out.append(f"{pad}- {_inline(item)}\n")


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)


def dump_block(key: str, value: Any) -> str:
    """`key:` followed by `value` in block style, indented by two spaces per level."""
    out: list[str] = []
    _emit({key: value}, 0, out)
    return "".join(out)
