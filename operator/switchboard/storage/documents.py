"""Reading document sources (file, url, inline, configMapRef) for plugins, within the size cap and
the repository root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin

from switchboard.errors import (
    FetchError,
    InvalidSpecError,
    PathEscapeError,
    SourceNotFoundError,
    SpecTooLargeError,
    SwitchboardError,
    URLNotAllowedError,
)
from switchboard.models.sources import ConfigMapKeyRef, DocumentSource
from switchboard.plugins.contract import Document, HttpClient

ACCEPT = "application/json, application/yaml, text/yaml, */*;q=0.5"
ConfigMapReader = Callable[[ConfigMapKeyRef, str], Awaitable[bytes]]


class SourceReader:
    """`DocumentReader` for file mode (a repository root) and cluster mode (ConfigMaps)."""

    def __init__(
        self,
        *,
        http: HttpClient,
        max_bytes: int,
        root: Path | None = None,
        config_maps: ConfigMapReader | None = None,
        namespace: str | None = None,
    ) -> None:
        self.http = http
        self.max_bytes = max_bytes
        self.root = root.resolve() if root is not None else None
        self.config_maps = config_maps
        self.namespace = namespace

    def resolve_file(self, relative: str, *, field: str) -> Path:
        """A repository-relative path, refused when absolute or when it leaves the root."""
        if self.root is None:
            raise InvalidSpecError("file sources are only available in file mode", field=field)
        pure = PurePosixPath(relative)
        if pure.is_absolute() or relative.startswith("~"):
            raise PathEscapeError(f"{relative!r} must be relative to the repository", field=field)
        target = (self.root / pure).resolve()
        if not target.is_relative_to(self.root):
            raise PathEscapeError(f"{relative!r} leaves the repository", field=field)
        return target

    async def read(
        self, source: DocumentSource, *, field: str, etag: str | None = None
    ) -> Document:
        if source.inline is not None:
            body = source.inline.encode()
            self._cap(len(body), field=f"{field}.inline")
            return Document(body=body)
        if source.file is not None:
            return self._read_file(source.file, field=f"{field}.file")
        if source.url is not None:
            return await self._read_url(source.url, field=f"{field}.url", etag=etag)
        assert source.config_map_ref is not None
        if self.config_maps is None:
            raise InvalidSpecError(
                "configMapRef sources are only available in cluster mode",
                field=f"{field}.configMapRef",
            )
        try:
            body = await self.config_maps(source.config_map_ref, self.namespace or "default")
        except SwitchboardError as exc:  # the reader knows the ConfigMap, not the field
            if exc.field is not None:
                raise
            raise type(exc)(exc.detail, field=f"{field}.configMapRef") from exc
        self._cap(len(body), field=f"{field}.configMapRef")
        return Document(body=body)

    async def read_relative(self, base: Document, ref: str, *, field: str) -> Document:
        if base.url is not None:
            return await self._read_url(urljoin(base.url, ref), field=field)
        if base.path is not None:
            joined = str(PurePosixPath(base.path).parent / ref)
            return self._read_file(joined, field=field)
        raise InvalidSpecError(
            f"external reference {ref!r} needs a file or URL source to resolve against", field=field
        )

    def _cap(self, size: int, *, field: str) -> None:
        if size > self.max_bytes:
            raise SpecTooLargeError(
                f"document is {size:,} bytes, over the {self.max_bytes:,}-byte cap "
                "(SWITCHBOARD_MAX_SPEC_BYTES)",
                field=field,
            )

    def _read_file(self, relative: str, *, field: str) -> Document:
        target = self.resolve_file(relative, field=field)
        if not target.is_file():
            raise SourceNotFoundError(f"{relative!r} does not exist in the repository", field=field)
        self._cap(target.stat().st_size, field=field)
        assert self.root is not None
        return Document(body=target.read_bytes(), path=target.relative_to(self.root).as_posix())

    async def _read_url(self, url: str, *, field: str, etag: str | None = None) -> Document:
        headers = {"accept": ACCEPT}
        if etag:
            headers["if-none-match"] = etag  # a 304 keeps the stored copy: nothing to download
        try:
            response = await self.http.request(
                "GET", url, headers=headers, max_bytes=self.max_bytes
            )
        except (URLNotAllowedError, FetchError) as exc:
            if exc.field is not None:
                raise
            raise type(exc)(exc.detail, field=field) from exc
        if response.status == 304 and etag:
            return Document(
                body=b"",
                url=response.url,
                etag=response.headers.get("etag") or etag,
                not_modified=True,
            )
        if response.status in (404, 410):
            raise SourceNotFoundError(f"{url} answered {response.status}", field=field)
        if response.status >= 400:
            raise FetchError(f"{url} answered {response.status}", field=field)
        return Document(body=response.body, url=response.url, etag=response.headers.get("etag"))
