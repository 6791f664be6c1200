"""Compiling OpenAPI operations into tool definitions: names, input/output schemas, annotations,
invocation bindings, and the shared `$defs` (components.schemas, referenced as `#/$defs/X`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from switchboard.errors import SpecParseError
from switchboard.models.records import ToolDefinition
from switchboard.plugins.openapi.naming import OperationKey, fallback_operation_id, name_tools
from switchboard.plugins.openapi.refs import deref

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
MUTATING = {"post", "put", "patch", "delete"}
SCHEMA_PREFIX = "#/components/schemas/"
DEFS_PREFIX = "#/$defs/"


@dataclass
class Compiled:
    """The compiled form of a document."""

    tools: list[ToolDefinition]
    definitions: dict[str, Any]
    servers: list[str]
    operation_count: int
    warnings: list[str] = field(default_factory=list)


def rewrite_refs(node: Any) -> Any:
    """A copy of `node` with `#/components/schemas/X` refs pointing at `#/$defs/X`."""
    return _copy_rewrite(node, [])


def _copy_rewrite(node: Any, _stack: list[Any]) -> Any:
    # Iterative copy keeps deeply nested schemas from hitting the recursion limit.
    if not isinstance(node, dict | list):
        return node
    root: Any = {} if isinstance(node, dict) else []
    work: list[tuple[Any, Any]] = [(node, root)]
    while work:
        source, target = work.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, value in items:
            if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMA_PREFIX):
                value = DEFS_PREFIX + value[len(SCHEMA_PREFIX) :]
            if isinstance(value, dict | list):
                child: Any = {} if isinstance(value, dict) else []
                work.append((value, child))
                value = child
            if isinstance(target, dict):
                target[key] = value
            else:
                target.append(value)
    return root


def server_urls(servers: Any, spec_url: str | None) -> list[str]:
    """Server URLs with variables at their defaults, relative ones resolved against the spec URL."""
    out: list[str] = []
    if not isinstance(servers, list):
        return out
    for server in servers:
        if not isinstance(server, dict) or not isinstance(server.get("url"), str):
            continue
        url: str = server["url"]
        variables = server.get("variables")
        if isinstance(variables, dict):
            for name, spec in variables.items():
                default = spec.get("default") if isinstance(spec, dict) else None
                if default is not None:
                    url = url.replace("{" + str(name) + "}", str(default))
        if spec_url and not url.startswith(("http://", "https://")):
            url = urljoin(spec_url, url)
        out.append(url)
    return out


def _parameters(
    document: dict[str, Any], path_item: dict[str, Any], op: dict[str, Any], where: str
) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*(path_item.get("parameters") or []), *(op.get("parameters") or [])]:
        param = deref(document, raw, field=where)
        if isinstance(param, dict) and isinstance(param.get("name"), str):
            merged[(param["name"], str(param.get("in", "query")))] = param
    return list(merged.values())


def _media_schema(document: dict[str, Any], content: Any) -> tuple[Any, list[str]]:
    if not isinstance(content, dict) or not content:
        return None, []
    types = list(content)
    preferred = next((t for t in types if "json" in t), types[0])
    media = content.get(preferred)
    schema = media.get("schema") if isinstance(media, dict) else None
    return schema, types


def _input_schema(
    document: dict[str, Any],
    params: list[dict[str, Any]],
    body: dict[str, Any] | None,
    where: str,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]], list[str]]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    bindings: list[dict[str, Any]] = []
    for param in params:
        name, location = param["name"], str(param.get("in", "query"))
        if name in properties:
            continue
        schema = rewrite_refs(param.get("schema") or {"type": "string"})
        if isinstance(schema, dict) and param.get("description") and "description" not in schema:
            schema = {**schema, "description": param["description"]}
        properties[name] = schema
        if location == "path" or param.get("required") is True:
            required.append(name)
        bindings.append({"name": name, "in": location})
    content_types: list[str] = []
    if body is not None:
        resolved = deref(document, body, field=where)
        if isinstance(resolved, dict):
            schema, content_types = _media_schema(document, resolved.get("content"))
            properties["body"] = rewrite_refs(schema) if schema is not None else {"type": "object"}
            if resolved.get("required") is True:
                required.append("body")
            if len(content_types) > 1:
                properties["contentType"] = {"type": "string", "enum": content_types}
    if not properties:
        return None, bindings, content_types
    schema_out: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema_out["required"] = required
    return schema_out, bindings, content_types


def _output_schema(document: dict[str, Any], responses: Any, where: str) -> dict[str, Any] | None:
    if not isinstance(responses, dict):
        return None
    codes = sorted(str(c) for c in responses)
    chosen = next(
        (c for c in codes if c.startswith("2")), "default" if "default" in codes else None
    )
    if chosen is None:
        return None
    response = deref(
        document,
        responses.get(chosen) or responses.get(int(chosen) if chosen.isdigit() else chosen),
        field=where,
    )
    if not isinstance(response, dict):
        return None
    schema, _ = _media_schema(document, response.get("content"))
    result = rewrite_refs(schema) if isinstance(schema, dict) else None
    return result if isinstance(result, dict) else None


def compile_document(
    document: dict[str, Any],
    *,
    spec_url: str | None,
    base_url: str | None,
    field: str,
) -> Compiled:
    """Every operation of the document as a tool, plus the shared definitions."""
    paths = document.get("paths")
    if not isinstance(paths, dict):
        raise SpecParseError("the document has no `paths` object", field=field)
    top_servers = server_urls(document.get("servers"), spec_url)
    keys: list[OperationKey] = []
    parts: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
    for path in sorted(paths):
        path_item = deref(document, paths[path], field=f"{field}.paths")
        if not isinstance(path_item, dict):
            continue
        for method in METHODS:
            op = path_item.get(method)
            if not isinstance(op, dict):
                continue
            op_id = op.get("operationId")
            operation_id = (
                op_id if isinstance(op_id, str) and op_id else fallback_operation_id(method, path)
            )
            tags = tuple(t for t in (op.get("tags") or []) if isinstance(t, str))
            override = op.get("x-switchboard-toolPath") or op.get("x-executor-toolPath")
            keys.append(
                OperationKey(
                    method=method,
                    path=path,
                    operation_id=operation_id,
                    tags=tags,
                    tool_path=override if isinstance(override, str) and override else None,
                )
            )
            parts.append((method, path, path_item, op))
    names = name_tools(keys)
    tools: list[ToolDefinition] = []
    for name, key, (method, path, path_item, op) in zip(names, keys, parts, strict=True):
        where = f"{field}.paths[{path}].{method}"
        params = _parameters(document, path_item, op, where)
        input_schema, param_bindings, content_types = _input_schema(
            document, params, op.get("requestBody"), where
        )
        description = op.get("description") or op.get("summary") or f"{method.upper()} {path}"
        annotations: dict[str, Any] = {}
        if method in MUTATING:
            annotations = {
                "requiresApproval": True,
                "approvalDescription": f"{method.upper()} {path}",
            }
        servers = (
            server_urls(op.get("servers") or path_item.get("servers"), spec_url) or top_servers
        )
        tools.append(
            ToolDefinition(
                name=name,
                description=str(description),
                input_schema=input_schema,
                output_schema=_output_schema(document, op.get("responses"), where),
                annotations=annotations,
                binding={
                    "method": method.upper(),
                    "path": path,
                    "operationId": key.operation_id,
                    "servers": [base_url] if base_url else servers,
                    "parameters": param_bindings,
                    "contentTypes": content_types,
                },
            )
        )
    tools.sort(key=lambda t: t.name)
    components = document.get("components")
    schemas = components.get("schemas") if isinstance(components, dict) else None
    definitions = rewrite_refs(schemas) if isinstance(schemas, dict) else {}
    return Compiled(
        tools=tools,
        definitions=definitions,
        servers=[base_url] if base_url else top_servers,
        operation_count=len(tools),
    )
