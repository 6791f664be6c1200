"""Reading a GraphQL schema from bytes (a saved snapshot or a live answer): an introspection
result (`{data: {__schema}}` or `{__schema}`), or SDL text that graphql-core parses, checks and
builds. Either way the result is the projection of the schema that tools read (`projecting`)."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import GraphQLError, build_ast_schema, parse
from graphql.validation.validate import validate_sdl

from switchboard.errors import IntrospectionDisabledError, SpecParseError
from switchboard.plugins.documents import check_size
from switchboard.plugins.graphql.describing import describe_schema
from switchboard.plugins.graphql.projecting import Projection, project
from switchboard.plugins.graphql.selecting import DEFAULT_DEPTH

FIRST_VISIBLE = re.compile(rb"[^ \t\r\n\f\v]")
"""Where a document's text starts (a search, not `lstrip`, which would copy megabytes)."""
UPSTREAM_TEXT = 300
"""Characters of an upstream error message kept in ours: enough to read, too few to flood status."""


@dataclass
class LoadedSchema:
    """What tools read of a schema, and what was noticed while reading it."""

    projection: Projection
    form: str
    """`introspection` or `sdl`."""
    warnings: list[str] = field(default_factory=list)

    @property
    def types(self) -> int:
        """Named types the whole schema declares."""
        return self.projection.declared

    @property
    def description(self) -> str | None:
        return self.projection.description


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    # Building a large schema allocates hundreds of thousands of objects and no garbage; the
    # cyclic collector's passes over them cost a third of the build, so pause it meanwhile.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def first_line(text: object, limit: int = UPSTREAM_TEXT) -> str:
    """One line of untrusted text, capped: for quoting upstream messages in ours."""
    line = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def graphql_errors(document: object) -> list[str] | None:
    """The messages of a GraphQL-shaped error answer (`{errors: [{message}]}`), else None."""
    if not isinstance(document, Mapping):
        return None
    errors = document.get("errors")
    if not isinstance(errors, list) or not errors:
        return None
    messages = [e.get("message") for e in errors if isinstance(e, Mapping)]
    if not messages or not all(isinstance(m, str) for m in messages):
        return None
    return [str(m) for m in messages]


def introspection_result(document: object, *, field: str) -> tuple[dict[str, Any], list[str]]:
    """`{"__schema": ...}` from either accepted shape, plus warnings. An answer that carries
    only errors means the server refuses introspection."""
    if not isinstance(document, Mapping):
        raise SpecParseError(
            "not an introspection result: expected an object with `data.__schema` or `__schema`",
            field=field,
        )
    data = document.get("data", document)
    schema = data.get("__schema") if isinstance(data, Mapping) else None
    messages = graphql_errors(document)
    if isinstance(schema, Mapping):
        warnings = []
        if messages:
            warnings.append(
                f"the introspection result also carries errors: {first_line(messages[0])}"
            )
        return {"__schema": schema}, warnings
    if messages:
        raise IntrospectionDisabledError(
            f"the server answered introspection with errors ({first_line(messages[0])}); "
            "introspection looks disabled: save the schema and set spec.graphql.introspection",
            field=field,
        )
    raise SpecParseError(
        "not an introspection result: expected an object with `data.__schema` or `__schema`",
        field=field,
    )


def build_from_introspection(
    introspection: dict[str, Any], *, field: str, depth: int = DEFAULT_DEPTH
) -> LoadedSchema:
    """Read the part of an introspection result that tools with default selections up to
    `depth` levels read, checking it as graphql-core checks what it builds. A real-world schema
    that breaks a type-system rule elsewhere (GitHub's breaks nine) still describes callable
    operations."""
    try:
        with no_cyclic_gc():
            projection = project(introspection, depth=depth, field=field)
    except RecursionError:
        raise SpecParseError(
            "type references nest too deeply to be a real schema", field=field
        ) from None
    return LoadedSchema(projection=projection, form="introspection")


def build_from_sdl(body: bytes, *, field: str, depth: int = DEFAULT_DEPTH) -> LoadedSchema:
    """Build a schema from SDL text. Rule violations (a field defined twice, as in the SDL that
    `@octokit/graphql-schema` publishes) become warnings; syntax errors and unknown types fail."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecParseError("the schema is not UTF-8 text", field=field) from exc
    try:
        with no_cyclic_gc():
            document = parse(text, no_location=True)
            problems = validate_sdl(document)
            schema = build_ast_schema(document, assume_valid=True, assume_valid_sdl=True)
            described = describe_schema(schema)
            projection = project(described, depth=depth, field=field)
    except RecursionError:
        raise SpecParseError("the SDL nests too deeply to be a real schema", field=field) from None
    except (GraphQLError, TypeError, ValueError) as exc:
        raise SpecParseError(f"not valid GraphQL SDL: {first_line(exc)}", field=field) from exc
    loaded = LoadedSchema(projection=projection, form="sdl")
    if problems:
        loaded.warnings.append(
            f"the SDL breaks {len(problems)} schema rule(s); "
            f"the first: {first_line(problems[0].message)}"
        )
    return loaded


def load_schema(body: bytes, *, field: str, limit: int, depth: int = DEFAULT_DEPTH) -> LoadedSchema:
    """A schema from a snapshot: JSON when the text starts with `{`, else SDL. `depth`: the
    deepest default selection the tools will be compiled with."""
    check_size(body, limit, field=field)
    start = FIRST_VISIBLE.search(body)
    if start is None:
        raise SpecParseError("the schema document is empty", field=field)
    if body[start.start()] != ord("{"):
        return build_from_sdl(body, field=field, depth=depth)
    with no_cyclic_gc():
        # What tools do not read of the parsed document dies when _from_json returns, inside
        # the pause, so the collector never walks its hundreds of thousands of containers.
        return _from_json(body, field=field, depth=depth)


def _from_json(body: bytes, *, field: str, depth: int) -> LoadedSchema:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise SpecParseError(f"not valid JSON: {first_line(exc)}", field=field) from exc
    introspection, warnings = introspection_result(document, field=field)
    loaded = build_from_introspection(introspection, field=field, depth=depth)
    loaded.warnings.extend(warnings)
    return loaded
