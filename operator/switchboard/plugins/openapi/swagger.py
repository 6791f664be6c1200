"""Swagger 2.0 to the OpenAPI 3 shape, in place: host/basePath/schemes become `servers`,
`definitions` the schemas, `body` and `formData` parameters a `requestBody`, response schemas
`content`, and `securityDefinitions` the `securitySchemes` (basic, apiKey, oauth2 flows)."""

from __future__ import annotations

from typing import Any

from switchboard.plugins.openapi.refs import Resolver

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
SCHEMA_KEYS = (
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
)
FLOWS = {
    "accessCode": "authorizationCode",
    "application": "clientCredentials",
    "implicit": "implicit",
    "password": "password",
}
COLLECTION_STYLES = {
    "csv": ("form", False),
    "ssv": ("spaceDelimited", False),
    "pipes": ("pipeDelimited", False),
    "multi": ("form", True),
}
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def _servers(document: dict[str, Any]) -> list[dict[str, Any]]:
    host = document.get("host")
    base = document.get("basePath")
    base = base if isinstance(base, str) and base.startswith("/") else "/"
    if not isinstance(host, str) or not host:
        return [{"url": base}]  # relative: resolved against where the spec came from
    schemes = [s for s in document.get("schemes") or [] if s in ("https", "http")]
    if not schemes:
        return [{"url": f"//{host}{base}"}]  # the spec's own scheme
    return [{"url": f"{scheme}://{host}{base}"} for scheme in schemes]


def _schema_of(param: dict[str, Any]) -> dict[str, Any]:
    schema = {key: param[key] for key in SCHEMA_KEYS if key in param}
    if schema.get("type") == "file":
        schema = {"type": "string", "format": "binary"}
    return schema or {"type": "string"}


def _parameter(param: dict[str, Any]) -> dict[str, Any]:
    out = {"name": param.get("name"), "in": param.get("in"), "schema": _schema_of(param)}
    for key in ("description", "required", "allowEmptyValue"):
        if key in param:
            out[key] = param[key]
    style = COLLECTION_STYLES.get(str(param.get("collectionFormat")))
    if style is not None:
        out["style"], out["explode"] = style
    return out


def _request_body(
    body: dict[str, Any] | None, form: list[dict[str, Any]], consumes: list[str]
) -> dict[str, Any] | None:
    if body is not None:
        media = [c for c in consumes if c not in (FORM, MULTIPART)] or ["application/json"]
        request: dict[str, Any] = {
            "content": {m: {"schema": body.get("schema") or {}} for m in media},
            "required": body.get("required") is True,
        }
        if isinstance(body.get("description"), str):
            request["description"] = body["description"]
        return request
    if not form:
        return None
    files = any(p.get("type") == "file" for p in form)
    media = [c for c in consumes if c in (FORM, MULTIPART)] or [MULTIPART if files else FORM]
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {str(p.get("name")): _schema_of(p) for p in form},
    }
    required = [str(p.get("name")) for p in form if p.get("required") is True]
    if required:
        schema["required"] = required
    return {"content": {m: {"schema": schema} for m in media}, "required": bool(required)}


def _responses(responses: Any, produces: list[str], resolver: Resolver, field: str) -> Any:
    if not isinstance(responses, dict):
        return responses
    out: dict[str, Any] = {}
    for code, raw in responses.items():
        response = resolver.resolve(raw, field=field)
        if not isinstance(response, dict):
            continue
        converted: dict[str, Any] = {"description": response.get("description", "")}
        if "schema" in response:
            converted["content"] = {m: {"schema": response["schema"]} for m in produces}
        out[str(code)] = converted
    return out


def _operation(
    op: dict[str, Any],
    shared: list[Any],
    document: dict[str, Any],
    resolver: Resolver,
    field: str,
) -> None:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*shared, *(op.get("parameters") or [])]:
        param = resolver.resolve(raw, field=field)
        if isinstance(param, dict) and isinstance(param.get("name"), str):
            merged[(param["name"], str(param.get("in")))] = param
    body = next((p for p in merged.values() if p.get("in") == "body"), None)
    form = [p for p in merged.values() if p.get("in") == "formData"]
    consumes = op.get("consumes") or document.get("consumes") or []
    produces = op.get("produces") or document.get("produces") or ["application/json"]
    op["parameters"] = [
        _parameter(p) for p in merged.values() if p.get("in") in ("path", "query", "header")
    ]
    request = _request_body(body, form, [str(c) for c in consumes])
    if request is not None:
        op["requestBody"] = request
    op["responses"] = _responses(op.get("responses"), [str(p) for p in produces], resolver, field)


def _security_scheme(scheme: Any) -> Any:
    if not isinstance(scheme, dict):
        return scheme
    kind = scheme.get("type")
    if kind == "basic":
        return {"type": "http", "scheme": "basic"}
    if kind == "oauth2":
        flow = FLOWS.get(str(scheme.get("flow")))
        spec = {
            key: scheme[key] for key in ("authorizationUrl", "tokenUrl", "scopes") if key in scheme
        }
        return {"type": "oauth2", "flows": {flow: spec} if flow else {}}
    return scheme


def convert(document: dict[str, Any], *, field: str) -> None:
    """Rewrite a Swagger 2.0 document into the OpenAPI 3 shape the compiler reads."""
    resolver = Resolver(document)
    components = {
        "schemas": document.get("definitions") or {},
        "securitySchemes": {
            str(name): _security_scheme(scheme)
            for name, scheme in (document.get("securityDefinitions") or {}).items()
        },
    }
    paths = document.get("paths")
    done: set[int] = set()  # a path item shared through `$ref` is converted once
    if isinstance(paths, dict):
        for path, raw_item in paths.items():
            item = resolver.resolve(raw_item, field=f"{field}.paths[{path}]")
            if not isinstance(item, dict) or id(item) in done:
                continue
            done.add(id(item))
            shared = item.pop("parameters", None) or []
            for method in METHODS:
                op = item.get(method)
                if isinstance(op, dict) and id(op) not in done:
                    done.add(id(op))
                    where = f"{field}.paths[{path}].{method}"
                    _operation(op, shared, document, resolver, where)
    document["servers"] = _servers(document)
    document["components"] = components
