"""Reading a GraphQL schema from bytes (a saved snapshot or a live answer): an introspection
result (`{data: {__schema}}` or `{__schema}`) or SDL text, built by graphql-core."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import (
    GraphQLError,
    GraphQLSchema,
    GraphQLWrappingType,
    build_ast_schema,
    build_client_schema,
    parse,
)
from graphql.validation.validate import validate_sdl

from switchboard.errors import IntrospectionDisabledError, SpecParseError
from switchboard.plugins.documents import check_size
from switchboard.plugins.graphql.projecting import MAX_WRAPPERS, project
from switchboard.plugins.graphql.selecting import DEFAULT_DEPTH

UPSTREAM_TEXT = 300
"""Characters of an upstream error message kept in ours: enough to read, too few to flood status."""


@dataclass
class LoadedSchema:
    """A built schema and what was noticed while reading it."""

    schema: GraphQLSchema
    """From SDL, the whole schema; from introspection, only what tools read for default
    selections up to `depth` levels (see `projecting`)."""
    form: str
    """`introspection` or `sdl`."""
    types: int
    """Named types the whole schema declares, introspection's own `__` types not counted."""
    depth: int | None = None
    """The deepest default selection `schema` still answers for; None: any (the whole schema)."""
    warnings: list[str] = field(default_factory=list)


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
    """Build, with graphql-core, the part of the schema that tools with default selections up to
    `depth` levels read. `assume_valid`: a real-world schema that breaks a type-system rule
    (GitHub's breaks nine) still describes callable operations."""
    try:
        with no_cyclic_gc():
            projection = project(introspection, depth=depth, field=field)
            schema = build_client_schema(
                projection.introspection,  # type: ignore[arg-type]
                assume_valid=True,
            )
    except RecursionError:
        raise SpecParseError(
            "type references nest too deeply to be a real schema", field=field
        ) from None
    except (GraphQLError, TypeError, ValueError, KeyError, AttributeError) as exc:
        raise SpecParseError(
            f"not a valid introspection result: {first_line(exc)}", field=field
        ) from exc
    return LoadedSchema(schema=schema, form="introspection", types=projection.types, depth=depth)


def _too_deep(type_: object) -> bool:
    count = 0
    while isinstance(type_, GraphQLWrappingType):
        type_, count = type_.of_type, count + 1
    return count > MAX_WRAPPERS


def _check_wrappers(schema: GraphQLSchema, field: str) -> None:
    """Refuse absurd list and non-null nesting before anything recurses through it. (Dangling
    type references already failed: building the schema resolves every field.)"""
    for named in schema.type_map.values():
        for name, member in (getattr(named, "fields", None) or {}).items():
            deep = _too_deep(member.type)
            args = getattr(member, "args", None)
            if args and not deep:
                deep = any(_too_deep(arg.type) for arg in args.values())
            if deep:
                raise SpecParseError(
                    f"{named.name}.{name} has a type wrapped in more than {MAX_WRAPPERS} lists "
                    "and non-nulls; this is not a real schema",
                    field=field,
                )


def build_from_sdl(body: bytes, *, field: str) -> LoadedSchema:
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
            _check_wrappers(schema, field)
    except RecursionError:
        raise SpecParseError("the SDL nests too deeply to be a real schema", field=field) from None
    except (GraphQLError, TypeError, ValueError) as exc:
        raise SpecParseError(f"not valid GraphQL SDL: {first_line(exc)}", field=field) from exc
    types = sum(1 for name in schema.type_map if not name.startswith("__"))
    loaded = LoadedSchema(schema=schema, form="sdl", types=types)
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
    stripped = body.lstrip()
    if not stripped:
        raise SpecParseError("the schema document is empty", field=field)
    if stripped[:1] != b"{":
        return build_from_sdl(body, field=field)
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise SpecParseError(f"not valid JSON: {first_line(exc)}", field=field) from exc
    introspection, warnings = introspection_result(document, field=field)
    loaded = build_from_introspection(introspection, field=field, depth=depth)
    loaded.warnings.extend(warnings)
    return loaded
