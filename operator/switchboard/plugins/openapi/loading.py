"""Loading a spec's bytes into a document: JSON or YAML, size cap, depth limit, and schema
references rewritten to `#/$defs/X` on the raw bytes before parsing (no copy of any schema).

The rewrite is a byte replacement of `"#/components/schemas/` (or Swagger's `"#/definitions/`):
in JSON that prefix can only begin a string, and a JSON string holding it is a reference. Text
that escapes `/` as `\\/`, and YAML, take a slower path that walks the parsed document instead.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
import yaml

from switchboard.errors import SpecParseError
from switchboard.plugins.documents import check_size, guard_yaml

try:  # libyaml when present: ten times faster on large specs
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader  # type: ignore[assignment]

DEFS = "#/$defs/"
OPENAPI_SCHEMAS = "#/components/schemas/"
SWAGGER_SCHEMAS = "#/definitions/"
_SWAGGER_HINT = re.compile(rb'"swagger"\s*:|^\s*swagger\s*:', re.MULTILINE)
_ESCAPED_SLASH = re.compile(rb"\\/")
EXTERNAL_REF = re.compile(rb"\$ref['\"]?\s*:\s*['\"]?(?=[^#'\"\s])")
"""A `$ref` whose value does not start with `#`: only then is the document walked for them."""
HINT_WINDOW = 4096
"""`swagger:` / `openapi:` is near the top of real documents; a wrong guess costs a re-parse."""


@dataclass
class Loaded:
    document: dict[str, Any]
    version: str
    """`2.0` for Swagger, else the `openapi` field (`3.0.3`, `3.1.0`...)."""
    external: bool = True
    """False when the text has no `$ref` to another document (no bundling needed)."""

    @property
    def swagger(self) -> bool:
        return self.version.startswith("2")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Parsing and compiling allocate millions of containers and free none of them: the cyclic
    collector would rescan the growing heap again and again for nothing (4x the parse time).
    On the way out the survivors go straight to the oldest generation (freeze, then unfreeze),
    or the young collections after this would each walk all of them once more."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()


def _version(document: Any, *, field: str) -> str:
    if not isinstance(document, dict):
        kind = "a list" if isinstance(document, list) else "a plain value, not an object"
        raise SpecParseError(f"not an OpenAPI document: the top level is {kind}", field=field)
    openapi = document.get("openapi")
    if isinstance(openapi, str) and openapi.startswith("3."):
        return openapi
    swagger = document.get("swagger")
    if str(swagger) in ("2.0", "2"):
        return "2.0"
    if openapi is not None or swagger is not None:
        found = f"openapi: {openapi!r}" if openapi is not None else f"swagger: {swagger!r}"
        raise SpecParseError(
            f"unsupported version ({found}); Swagger 2.0 and OpenAPI 3.0/3.1 are", field=field
        )
    raise SpecParseError(
        "not an OpenAPI document: no `openapi: 3.x` or `swagger: 2.0` field at the top", field=field
    )


def _plain_walk(root: Any, old_prefix: str | None) -> Any:
    """In place: non-string keys to strings, dates to ISO text, schema refs to `#/$defs/`
    (iterative, so depth is bounded by the parser and not by Python's stack)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if any(not isinstance(k, str) for k in node):
                items = [
                    (str(k).lower() if isinstance(k, bool) else str(k), v) for k, v in node.items()
                ]
                node.clear()
                node.update(items)
            for key, value in node.items():
                if isinstance(value, dict | list):
                    stack.append(value)
                elif isinstance(value, date):
                    node[key] = value.isoformat()
                elif (
                    key == "$ref"
                    and old_prefix
                    and isinstance(value, str)
                    and value.startswith(old_prefix)
                ):
                    node[key] = DEFS + value[len(old_prefix) :]
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, dict | list):
                    stack.append(value)
                elif isinstance(value, date):
                    node[index] = value.isoformat()
    return root


def _load_json(body: bytes, *, field: str) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "recursion" in str(exc).lower() or "depth" in str(exc).lower():
            raise SpecParseError(
                "the document nests more than 1,024 levels deep", field=field
            ) from None
        raise


def _load_yaml(body: bytes, *, field: str) -> Any:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecParseError(
            f"not JSON or YAML: the bytes are not UTF-8 text (at byte {exc.start})", field=field
        ) from None
    try:
        guard_yaml(text, field=field)
        return yaml.load(text, Loader=SafeLoader)
    except RecursionError:
        raise SpecParseError("the document nests too deeply to read", field=field) from None
    except yaml.YAMLError as exc:  # guard_yaml reports the common cases itself
        raise SpecParseError(f"not valid YAML: {exc}", field=field) from None


def _parse(body: bytes, *, field: str) -> tuple[Any, bool]:
    """(data, parsed as JSON): JSON when the text starts with `{` or `[` and parses as JSON,
    otherwise YAML (a superset)."""
    stripped = body.lstrip()
    if not stripped:
        raise SpecParseError("the document is empty", field=field)
    if stripped[:1] in (b"{", b"["):
        try:
            return _load_json(body, field=field), True
        except orjson.JSONDecodeError as exc:
            try:
                return _load_yaml(body, field=field), False
            except SpecParseError:
                raise SpecParseError(f"not valid JSON: {exc}", field=field) from None
    return _load_yaml(body, field=field), False


def load(body: bytes, *, field: str, limit: int) -> Loaded:
    """Parse `body` (within `limit` bytes) into a document whose schema refs use `#/$defs/`."""
    check_size(body, limit, field=field)
    head = body[:HINT_WINDOW]
    swagger_hint = _SWAGGER_HINT.search(head) is not None
    # Two literal-prefixed searches: a single alternation would lose the fast literal scan.
    escaped = _ESCAPED_SLASH.search(body) is not None
    external = EXTERNAL_REF.search(body) is not None
    fast = head.lstrip()[:1] == b"{" and not escaped
    with gc_paused():
        old = SWAGGER_SCHEMAS if swagger_hint else OPENAPI_SCHEMAS
        text = body.replace(f'"{old}'.encode(), f'"{DEFS}'.encode()) if fast else body
        document, is_json = _parse(text, field=field)
        del text
        version = _version(document, field=field)
        if fast and (version == "2.0") != swagger_hint:  # a wrong guess: parse the original
            document, is_json = _parse(body, field=field)
            fast = False
        if not (fast and is_json):
            _plain_walk(document, SWAGGER_SCHEMAS if version == "2.0" else OPENAPI_SCHEMAS)
    return Loaded(document=document, version=version, external=external)


def parse_fragment(body: bytes, *, field: str) -> Any:
    """An external document (any JSON or YAML value), references left as written."""
    data, is_json = _parse(body, field=field)
    return data if is_json else _plain_walk(data, None)
