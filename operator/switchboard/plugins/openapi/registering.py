"""The OpenAPI registration pipeline: read (conditionally), hash, reuse when unchanged, else
parse, bundle, convert Swagger, derive auth (and, when asked, discover OAuth), compile tools;
then the record and its details."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson
import xxhash
from pydantic import ValidationError

from switchboard.errors import InvalidSpecError, SpecParseError
from switchboard.models.integration import OpenApiSpec
from switchboard.models.records import IntegrationRecord, Registration, ToolDefinition, ToolSet
from switchboard.models.sources import DocumentSource
from switchboard.plugins.contract import Document, PluginContext, RegistrationRequest
from switchboard.plugins.openapi import compiling, discovering, securing
from switchboard.plugins.openapi.bundling import Bundle, bundle
from switchboard.plugins.openapi.loading import gc_paused, load
from switchboard.plugins.openapi.refs import Resolver
from switchboard.plugins.openapi.servers import is_relative, parse_servers, server_url
from switchboard.plugins.openapi.swagger import convert
from switchboard.plugins.templates import combine, dump_templates, parse_templates

FIELD = "spec.openapi"
SOURCE = f"{FIELD}.source"
KIND = "openapi"


def parse_config(config: Mapping[str, Any]) -> OpenApiSpec:
    try:
        return OpenApiSpec.model_validate(config)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidSpecError(first["msg"], field=f"{FIELD}.{where}") from None


@dataclass
class _Compiled:
    tools: list[ToolDefinition]
    definitions: dict[str, Any]
    derived: list[securing.Template]
    config: dict[str, Any]
    """The facts kept in the stored config (version, title, servers...)."""
    warnings: list[str]


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _check_depth(
    document: dict[str, Any], tools: list[ToolDefinition], definitions: dict[str, Any]
) -> None:
    """JSON tooling downstream (the mirror, digests) refuses nesting past ~250 levels: say so
    here, naming the place, rather than fail later with a bare encoder error. One encoding of
    the whole document answers for everything the tools share with it."""
    try:
        orjson.dumps([[[document]]])  # the depth at which tools and definitions are written
        return
    except orjson.JSONEncodeError:
        pass
    for name, schema in definitions.items():
        try:
            orjson.dumps([[schema]])
        except orjson.JSONEncodeError:
            where = f"{SOURCE} (components.schemas.{name})"
            raise SpecParseError(
                "the schema nests more than 250 levels deep", field=where
            ) from None
    for tool in tools:
        try:
            orjson.dumps([[tool.input_schema, tool.output_schema]])
        except orjson.JSONEncodeError:
            where = f"{SOURCE} (operation {tool.binding.get('operationId')})"
            raise SpecParseError("a schema nests more than 250 levels deep", field=where) from None


async def _compile(
    source: Document, spec: OpenApiSpec, ctx: PluginContext, oauth_deadline: float
) -> tuple[_Compiled, dict[str, str]]:
    loaded = load(source.body, field=SOURCE, limit=ctx.max_spec_bytes)
    document = loaded.document
    external = (
        await bundle(document, source, ctx, swagger=loaded.swagger, field=SOURCE)
        if loaded.external
        else Bundle()
    )
    with gc_paused():
        if loaded.swagger:
            convert(document, field=SOURCE)
        resolver = Resolver(document)
        operations, warnings = compiling.collect(
            document, resolver, spec_url=source.url, field=SOURCE
        )
        top = parse_servers(document.get("servers"), source.url)
        first = server_url(top[0]) if top else None
        base = spec.base_url or (first if first and not is_relative(top[0]) else None)
        securities = [o.op["security"] for o in operations if "security" in o.op]
        derived = securing.derive(
            document, resolver, securities, base_url=base or source.url, field=SOURCE
        )
    discovery: dict[str, Any] | None = None
    if discovering.wanted(spec):  # outside the paused GC: other work runs while hosts answer
        discovery = await discovering.enrich(
            derived,
            ctx.http,
            discovering.candidates(spec.base_url, top, source.url),
            [document.get("security"), *securities],
            deadline=oauth_deadline,
        )
    with gc_paused():
        tools = compiling.build_tools(operations, resolver, derived.accepts, field=SOURCE)
        definitions = compiling.definitions(document)
        _check_depth(document, tools, definitions)
    if top and is_relative(top[0]) and not spec.base_url:
        warnings.append(
            f"the server URL {top[0]['url']!r} is relative and the spec has no URL to resolve "
            "it against; set spec.openapi.baseUrl"
        )
    raw_info = document.get("info")
    info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
    if not info:
        warnings.append("the document has no `info` object")
    facts: dict[str, Any] = {
        "openapiVersion": loaded.version,
        "title": _text(info.get("title")),
        "specDescription": _text(info.get("description")),
        "operationCount": len(tools),
        "servers": top,
        "oauthDiscovery": discovery,
    }
    compiled = _Compiled(
        tools=tools,
        definitions=definitions,
        derived=derived.templates,
        config={k: v for k, v in facts.items() if v is not None},
        warnings=warnings + derived.warnings,
    )
    return compiled, external.documents


def _fingerprint(body: bytes) -> str:
    """xxh3-128 of the bytes: ten times faster than sha256, for recognising unchanged specs."""
    return f"xxh3:{xxhash.xxh3_128_hexdigest(body)}"


def _spec_hash(body_sha: str, externals: Mapping[str, str]) -> str:
    if not externals:
        return body_sha
    digest = hashlib.sha256(body_sha.encode())
    for location in sorted(externals):
        digest.update(f"\0{location}\0{externals[location]}".encode())
    return digest.hexdigest()


async def _current_externals(
    previous: Mapping[str, Any], ctx: PluginContext
) -> dict[str, str] | None:
    """The external documents the stored spec read, hashed again; None if one is gone."""
    out: dict[str, str] = {}
    for location in previous.get("externalDocuments") or {}:
        remote = location.startswith(("http://", "https://"))
        source = DocumentSource(url=location) if remote else DocumentSource(file=location)
        try:
            document = await ctx.documents.read(source, field=SOURCE)
        except (SpecParseError, InvalidSpecError):
            return None
        out[location] = hashlib.sha256(document.body).hexdigest()
    return out


def _reusable(previous: IntegrationRecord | None, spec: OpenApiSpec) -> Mapping[str, Any] | None:
    """The stored config when it was compiled from the same source with the same base URL."""
    if previous is None or previous.kind != KIND or previous.spec_hash is None:
        return None
    config = previous.config
    same_source = config.get("sourceRef") == spec.source.model_dump(
        by_alias=True, exclude_none=True
    )
    if not same_source or config.get("baseUrl") != spec.base_url:
        return None
    if "derivedTemplates" not in config or "operationCount" not in config:
        return None
    # Discovery's answer is kept with the spec; switching it on or off, or an attempt that ended
    # in an outage or at its deadline, compiles (and asks) again.
    if discovering.wanted(spec) != ("oauthDiscovery" in config):
        return None
    if discovering.retry(config.get("oauthDiscovery")):
        return None
    return config


async def register(
    request: RegistrationRequest,
    ctx: PluginContext,
    *,
    oauth_deadline: float = discovering.DEADLINE,
) -> Registration:
    """Read the spec and compile it, or, when the source is unchanged since `request.previous`
    (same hash, or a 304 to `If-None-Match`), reuse what is stored without parsing anything."""
    spec = parse_config(request.config)
    previous = _reusable(request.previous, spec)
    etag = previous.get("etag") if previous is not None else None
    options = {"etag": etag} if isinstance(etag, str) and spec.source.url else {}
    source = await ctx.documents.read(spec.source, field=SOURCE, **options)
    stored = request.previous
    if previous is not None and stored is not None and source.not_modified:
        return _registration(request, spec, source, stored.spec_hash or "", previous, None)
    if previous is not None and stored is not None:
        externals = await _current_externals(previous, ctx)
        # Same bytes (a fast non-cryptographic digest decides; the stored sha256 stays the
        # spec's identity) and same external documents: nothing to parse or hash again.
        if (
            externals is not None
            and _fingerprint(source.body) == previous.get("contentDigest")
            and _spec_hash(str(previous.get("bodySha")), externals) == stored.spec_hash
        ):
            return _registration(request, spec, source, stored.spec_hash, previous, None)
        body_sha = hashlib.sha256(source.body).hexdigest()
        if externals is not None and _spec_hash(body_sha, externals) == stored.spec_hash:
            return _registration(request, spec, source, stored.spec_hash, previous, None)
        compiled, externals = await _compile(source, spec, ctx, oauth_deadline)
    else:
        # Nothing to compare with: hash on another core while this one parses (hashlib lets go
        # of the GIL on large buffers).
        with ThreadPoolExecutor(max_workers=1) as pool:
            hashing = pool.submit(lambda: hashlib.sha256(source.body).hexdigest())
            compiled, externals = await _compile(source, spec, ctx, oauth_deadline)
            body_sha = hashing.result()
    facts = {
        **compiled.config,
        "derivedTemplates": dump_templates(compiled.derived),
        "contentDigest": _fingerprint(source.body),
        "bodySha": body_sha,
    }
    if externals:
        facts["externalDocuments"] = externals
    return _registration(request, spec, source, _spec_hash(body_sha, externals), facts, compiled)


def _registration(
    request: RegistrationRequest,
    spec: OpenApiSpec,
    source: Document,
    spec_hash: str,
    facts: Mapping[str, Any],
    compiled: _Compiled | None,
) -> Registration:
    """The record (config: what invocation and reuse need) and the status details."""
    derived = parse_templates(facts.get("derivedTemplates") or [])
    declared = None if spec.authentication_template is None else list(spec.authentication_template)
    templates = combine(derived, declared, spec.authentication_mode)
    keep = (
        "openapiVersion",
        "title",
        "specDescription",
        "operationCount",
        "servers",
        "oauthDiscovery",
        "contentDigest",
        "bodySha",
    )
    config: dict[str, Any] = {key: facts[key] for key in keep if key in facts}
    config["specHash"] = spec_hash
    config["sourceRef"] = spec.source.model_dump(by_alias=True, exclude_none=True)
    config["authenticationTemplate"] = dump_templates(templates)
    config["derivedTemplates"] = facts.get("derivedTemplates") or []
    if "externalDocuments" in facts:
        config["externalDocuments"] = facts["externalDocuments"]
    if source.url:
        config["sourceUrl"] = source.url
    etag = source.etag or (facts.get("etag") if source.not_modified else None)
    if etag:
        config["etag"] = etag
    if spec.base_url:
        config["baseUrl"] = spec.base_url
    if spec.headers:
        config["headers"] = dict(spec.headers)
    if spec.query_params:
        config["queryParams"] = dict(spec.query_params)
    title = config.get("title")
    record = IntegrationRecord(
        tenant=request.tenant,
        slug=request.slug,
        kind=KIND,
        name=(request.name or "").strip() or title or request.slug,
        description=request.description or config.get("specDescription") or title or request.slug,
        config=config,
        can_remove=True,
        can_refresh=spec.source.url is not None,
        spec_hash=spec_hash,
    )
    if compiled is None:
        toolset = ToolSet(unchanged=True)
        warnings: list[str] = []
    else:
        toolset = ToolSet.model_construct(
            tools=compiled.tools,
            definitions=compiled.definitions,
            incomplete=False,
            unchanged=False,
        )
        warnings = compiled.warnings
    details: dict[str, Any] = {
        "openapiVersion": config.get("openapiVersion", ""),
        "title": title or "",
        "operationCount": config.get("operationCount", 0),
    }
    discovery = config.get("oauthDiscovery") or discovering.skipped(spec)
    if discovery:
        details["oauthDiscovery"] = discovery
    return Registration(
        record=record,
        toolset=toolset,
        details=details,
        display_url=display_url(config),
        warnings=warnings,
    )


def display_url(config: Mapping[str, Any]) -> str | None:
    """`baseUrl`, else the source URL, else the first absolute server (reference case 37+)."""
    for key in ("baseUrl", "sourceUrl"):
        value = config.get(key)
        if isinstance(value, str) and value:
            return value
    servers = config.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        url = server_url(servers[0])
        if url.startswith(("http://", "https://")):
            return url
    return None
