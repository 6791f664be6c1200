"""Reading a document once: detection records the GET answers it read, and registration is served
from them, so a 40 MB spec found by `kind: auto` is downloaded once, not twice."""

from __future__ import annotations

from collections.abc import Mapping

from switchboard.models.sources import DocumentSource
from switchboard.plugins.contract import Document, DocumentReader, HttpClient, HttpResponse


class RecordingHttp:
    """An `HttpClient` that keeps successful GET answers, up to `budget` bytes in all."""

    def __init__(self, inner: HttpClient, *, budget: int) -> None:
        self.inner = inner
        self.budget = budget
        self.responses: dict[str, HttpResponse] = {}
        self._kept = 0

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        max_bytes: int | None = None,
        timeout: float | None = None,
    ) -> HttpResponse:
        response = await self.inner.request(
            method, url, headers=headers, content=content, max_bytes=max_bytes, timeout=timeout
        )
        fits = self._kept + len(response.body) <= self.budget
        if method.upper() == "GET" and 200 <= response.status < 300 and fits:
            self.responses[url] = response
            self._kept += len(response.body)
        return response


class PrefetchedDocuments:
    """A `DocumentReader` that answers URL sources from answers already read, else delegates."""

    def __init__(self, inner: DocumentReader, responses: Mapping[str, HttpResponse]) -> None:
        self.inner = inner
        self.responses = responses

    async def read(
        self, source: DocumentSource, *, field: str, etag: str | None = None
    ) -> Document:
        response = self.responses.get(source.url) if source.url is not None else None
        if response is None:
            return await self.inner.read(source, field=field, etag=etag)
        return Document(body=response.body, url=response.url, etag=response.headers.get("etag"))

    async def read_relative(self, base: Document, ref: str, *, field: str) -> Document:
        return await self.inner.read_relative(base, ref, field=field)
