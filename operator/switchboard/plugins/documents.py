"""Parsing untrusted JSON/YAML documents safely: size cap, YAML alias-bomb guard, clear errors."""

from __future__ import annotations

from typing import Any

import orjson
import yaml

from switchboard.errors import SpecParseError, SpecTooLargeError

try:  # libyaml when present: ten times faster on large specs
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader  # type: ignore[assignment]

__all__ = ["SafeLoader", "check_size", "expansion", "guard_yaml", "parse_document"]

MAX_EXPANSION = 50
"""A YAML document may not expand (through aliases) to more than this many times its node count,
plus a fixed allowance: legitimate specs reuse a few anchors; a billion-laughs bomb multiplies."""
EXPANSION_ALLOWANCE = 100_000


def check_size(body: bytes, limit: int, *, field: str) -> None:
    if len(body) > limit:
        raise SpecTooLargeError(
            f"document is {len(body):,} bytes, over the {limit:,}-byte cap "
            "(SWITCHBOARD_MAX_SPEC_BYTES)",
            field=field,
        )


def expansion(node: yaml.Node) -> tuple[int, int]:
    """(distinct nodes, nodes after alias expansion), without expanding anything."""
    sizes: dict[int, int] = {}
    order: list[yaml.Node] = []
    stack: list[yaml.Node] = [node]
    while stack:  # iterative post-order: a deep document must not hit the recursion limit
        current = stack.pop()
        if id(current) in sizes:
            continue
        sizes[id(current)] = -1
        order.append(current)
        if isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.extend((key, value))
    for current in reversed(order):
        total = 1
        if isinstance(current, yaml.SequenceNode):
            total += sum(sizes[id(child)] for child in current.value)
        elif isinstance(current, yaml.MappingNode):
            total += sum(sizes[id(k)] + sizes[id(v)] for k, v in current.value)
        sizes[id(current)] = total
    return len(order), sizes[id(node)]


def guard_yaml(text: str | bytes, *, field: str) -> None:
    """Refuse documents whose aliases expand far beyond their size (billion laughs)."""
    try:
        for node in yaml.compose_all(text, Loader=SafeLoader):
            distinct, expanded = expansion(node)
            if expanded > distinct * MAX_EXPANSION + EXPANSION_ALLOWANCE:
                raise SpecParseError(
                    f"YAML aliases expand the document to {expanded:,} nodes from {distinct:,}; "
                    "refusing a possible alias bomb",
                    field=field,
                )
    except yaml.YAMLError as exc:
        raise SpecParseError(f"not valid YAML: {_yaml_problem(exc)}", field=field) from exc


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return str(problem)


def parse_document(body: bytes, *, field: str, limit: int) -> Any:
    """JSON when the text starts with `{` or `[`, else YAML; SpecParseError names `field`."""
    check_size(body, limit, field=field)
    stripped = body.lstrip()
    if not stripped:
        raise SpecParseError("the document is empty", field=field)
    if stripped[:1] in (b"{", b"["):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            # Some "JSON" is really flow-style YAML; YAML is a superset, so try it before failing.
            try:
                return _load_yaml(body, field=field)
            except SpecParseError:
                raise SpecParseError(f"not valid JSON: {exc}", field=field) from exc
    return _load_yaml(body, field=field)


def _load_yaml(body: bytes, *, field: str) -> Any:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecParseError("the document is not UTF-8 text", field=field) from exc
    guard_yaml(text, field=field)
    try:
        return yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        raise SpecParseError(f"not valid YAML: {_yaml_problem(exc)}", field=field) from exc
