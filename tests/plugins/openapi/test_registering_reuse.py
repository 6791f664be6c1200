"""An unchanged spec is recognised by its content digest without parsing or sha256-hashing it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from switchboard.models.records import IntegrationRecord
from switchboard.plugins.contract import PluginContext, RegistrationRequest
from switchboard.plugins.openapi import plugin as openapi
from switchboard.storage.documents import SourceReader
from switchboard.storage.outbound import OutboundClient, OutboundPolicy

SPEC = b'{"openapi": "3.0.0", "info": {"title": "T"}, "paths": {"/a": {"get": {"operationId": "getA", "responses": {"200": {"description": "ok"}}}}}}'


async def test_unchanged_bytes_skip_sha256_and_changed_bytes_recompile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "spec.json").write_bytes(SPEC)
    http = OutboundClient(OutboundPolicy())
    ctx = PluginContext(
        documents=SourceReader(http=http, max_bytes=1 << 20, root=tmp_path), http=http
    )
    config = {"source": {"file": "spec.json"}}
    try:
        first = await openapi.register(
            RegistrationRequest(tenant="t", slug="s", config=config), ctx
        )
        assert first.record.spec_hash == hashlib.sha256(SPEC).hexdigest()
        previous = IntegrationRecord(**first.record.model_dump())
        calls: list[int] = []
        real = hashlib.sha256

        def counting(*args: object) -> object:
            calls.append(1)
            return real(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(hashlib, "sha256", counting)
        again = await openapi.register(
            RegistrationRequest(tenant="t", slug="s", config=config, previous=previous), ctx
        )
        assert again.toolset.unchanged and again.record.spec_hash == previous.spec_hash
        assert calls == []  # recognised by the xxh3 digest alone
        (tmp_path / "spec.json").write_bytes(SPEC.replace(b"getA", b"getB"))
        changed = await openapi.register(
            RegistrationRequest(tenant="t", slug="s", config=config, previous=previous), ctx
        )
        assert not changed.toolset.unchanged
        assert [t.name for t in changed.toolset.tools] == ["a.getB"]
    finally:
        await http.aclose()
