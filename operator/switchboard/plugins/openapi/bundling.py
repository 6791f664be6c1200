"""External `$ref`s (`common.yaml#/Pet`, `./schemas/pet.json`) read from next to the spec and
bundled into it: a schema joins the shared `$defs` under a derived name and the reference points
there; a parameter, response or path item is inlined. Each file is read and parsed once."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from switchboard.errors import SpecParseError
from switchboard.plugins.contract import Document, PluginContext
from switchboard.plugins.openapi.loading import DEFS, gc_paused, parse_fragment

SCHEMA_KEYS = frozenset(
    {
        "schema",
        "schemas",
        "definitions",
        "$defs",
        "items",
        "properties",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "additionalProperties",
        "patternProperties",
    }
)
MAX_FILES = 500
_NON_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class _File:
    document: Document
    data: Any


@dataclass
class Bundle:
    """What bundling read: `{location: sha256}` of every external document, for the spec hash."""

    documents: dict[str, str] = field(default_factory=dict)


class _Bundler:
    def __init__(
        self, ctx: PluginContext, main: Document, schemas: dict[str, Any], field: str
    ) -> None:
        self.ctx = ctx
        self.main = main
        self.schemas = schemas
        self.field = field
        self.by_ref: dict[tuple[int, str], _File] = {}
        self.by_location: dict[str, _File] = {}
        self.by_document: dict[int, _File] = {}
        self.grafted: dict[tuple[int, str], str] = {}
        self.inlined: dict[int, bool] = {}
        """id(target) -> finished; an unfinished one met again is a cycle."""
        self.bundle = Bundle()
        self.total = 0

    async def file(self, origin: Document, path: str) -> _File:
        cached = self.by_ref.get((id(origin), path))
        if cached is not None:
            return cached
        document = await self.ctx.documents.read_relative(origin, path, field=self.field)
        where = document.path or document.url or path
        loaded = self.by_location.get(where)
        if loaded is None:
            if len(self.by_location) >= MAX_FILES:
                raise SpecParseError(f"more than {MAX_FILES} external documents", field=self.field)
            self.total += len(document.body)
            if self.total > self.ctx.max_spec_bytes:
                raise SpecParseError(
                    "the spec's external references add up to more than "
                    f"{self.ctx.max_spec_bytes:,} bytes",
                    field=self.field,
                )
            with gc_paused():
                data = parse_fragment(document.body, field=f"{self.field} ({where})")
            self.bundle.documents[where] = hashlib.sha256(document.body).hexdigest()
            loaded = _File(document, data)
            self.by_location[where] = loaded
            self.by_document[id(document)] = loaded
        self.by_ref[(id(origin), path)] = loaded
        return loaded

    def name_for(self, loaded: _File, pointer: str) -> str:
        where = loaded.document.path or loaded.document.url or "external"
        stem = where.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        last = pointer.rstrip("/").rsplit("/", 1)[-1] if pointer else ""
        base = _NON_NAME.sub("_", f"{stem}_{last}" if last else stem).strip("_") or "external"
        name, n = base, 2
        while name in self.schemas:
            name, n = f"{base}_{n}", n + 1
        return name

    def target(self, data: Any, pointer: str, ref: str) -> Any:
        node = data
        for raw in pointer.split("/")[1:] if pointer else []:
            token = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise SpecParseError(
                    f"external reference {ref!r} points at nothing", field=self.field
                )
        return node

    async def walk(self, root: Any, base: _File | None, in_schema: bool) -> None:
        """Bundle every reference under `root`; `base` is the external file `root` came from
        (None for the spec itself, whose own `#` references stay as they are)."""
        stack: list[tuple[Any, bool]] = [(root, in_schema)]
        while stack:
            node, schema_context = stack.pop()
            if isinstance(node, list):
                stack.extend((child, schema_context) for child in node)
                continue
            if not isinstance(node, dict):
                continue
            ref = node.get("$ref")
            if isinstance(ref, str) and (base is not None or not ref.startswith("#")):
                await self.rewrite(node, ref, base, schema_context)
                continue
            for key, child in node.items():
                if isinstance(child, dict | list):
                    stack.append((child, schema_context or key in SCHEMA_KEYS))

    async def rewrite(
        self, node: dict[str, Any], ref: str, base: _File | None, schema: bool
    ) -> None:
        path, _, pointer = ref.partition("#")
        if path:
            loaded = await self.file(base.document if base else self.main, path)
        else:
            assert base is not None  # the spec's own `#` references never get here
            loaded = base
        if schema:
            name = self.grafted.get((id(loaded), pointer))
            if name is None:
                name = self.name_for(loaded, pointer)
                self.grafted[(id(loaded), pointer)] = name
                target = self.target(loaded.data, pointer, ref)
                self.schemas[name] = target
                await self.walk(target, loaded, True)
            node.clear()
            node["$ref"] = DEFS + name.replace("~", "~0").replace("/", "~1")
            return
        target = self.target(loaded.data, pointer, ref)
        if not isinstance(target, dict):
            raise SpecParseError(f"external reference {ref!r} is not an object", field=self.field)
        finished = self.inlined.get(id(target))
        if finished is False:
            raise SpecParseError(f"reference cycle through {ref!r}", field=self.field)
        if finished is None:
            self.inlined[id(target)] = False
            await self.walk(target, loaded, False)
            self.inlined[id(target)] = True
        node.clear()
        node.update(target)


async def bundle(
    document: dict[str, Any],
    source: Document,
    ctx: PluginContext,
    *,
    swagger: bool,
    field: str,
) -> Bundle:
    """Resolve external references in place (the caller knows the raw text has some)."""
    holder: Any = document if swagger else document.get("components", {})
    key = "definitions" if swagger else "schemas"
    existing = holder.get(key) if isinstance(holder, dict) else None
    schemas: dict[str, Any] = existing if isinstance(existing, dict) else {}
    bundler = _Bundler(ctx, source, schemas, field)
    await bundler.walk(document, None, False)
    if schemas and existing is not schemas:  # grafted schemas need a home
        if not isinstance(holder, dict) or existing is not None:
            raise SpecParseError("must be an object", field=f"{field}.components.{key}")
        holder[key] = schemas
        if not swagger:
            document["components"] = holder
    return bundler.bundle
