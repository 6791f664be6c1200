"""The Kubernetes API adapter for cluster mode: credentials, ConfigMap and Secret reads, status
patches. HTTP and client-library failures become Switchboard errors here, once."""

from __future__ import annotations

import asyncio
import base64
import binascii
import ssl
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from switchboard.errors import ClusterApiError, SourceNotFoundError
from switchboard.models.sources import ConfigMapKeyRef

TIMEOUT = httpx.Timeout(30.0, connect=5.0)
IN_FLIGHT = 16
"""Requests at once. More wait here, in order: httpx's own pool queue grows costly to scan when
a thousand reconciles write their status together."""
MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True)
class KubeCredentials:
    """Where the API server is and how to authenticate (in-cluster files or a kubeconfig)."""

    server: str
    ca_data: bytes | None = None
    token: str | None = field(default=None, repr=False)
    certificate_data: bytes | None = None
    private_key_data: bytes | None = field(default=None, repr=False)
    insecure: bool = False


def _read(path: str | None) -> bytes | None:
    return Path(path).read_bytes() if path else None


def load_credentials(kubeconfig: Path | None = None) -> KubeCredentials:
    """In-cluster service account first (unless a kubeconfig is named), else the kubeconfig
    (`$KUBECONFIG` or `~/.kube/config`), through the official client's loaders so that exec
    plugins and token files work as kubectl's do."""
    import kubernetes.client
    import kubernetes.config

    loaders: Any = kubernetes.config  # the client library is untyped
    config = kubernetes.client.Configuration()
    try:
        if kubeconfig is None:
            try:
                loaders.load_incluster_config(client_configuration=config)
            except loaders.ConfigException:
                loaders.load_kube_config(client_configuration=config)
        else:
            loaders.load_kube_config(config_file=str(kubeconfig), client_configuration=config)
    except (loaders.ConfigException, OSError) as exc:
        raise ClusterApiError(f"no usable Kubernetes credentials: {exc}") from exc
    header = config.get_api_key_with_prefix("BearerToken") or config.get_api_key_with_prefix(
        "authorization"
    )
    token = header.split(" ", 1)[-1] if header else None
    return KubeCredentials(
        server=config.host,
        ca_data=_read(config.ssl_ca_cert),
        token=token,
        certificate_data=_read(config.cert_file),
        private_key_data=_read(config.key_file),
        insecure=not config.verify_ssl,
    )


def _ssl_context(credentials: KubeCredentials) -> ssl.SSLContext | bool:
    if credentials.insecure:
        return False
    context = ssl.create_default_context(
        cadata=credentials.ca_data.decode() if credentials.ca_data else None
    )
    if credentials.certificate_data and credentials.private_key_data:
        # The ssl module loads client certificates only from files: a private temporary
        # directory, removed as soon as the context holds them.
        with tempfile.TemporaryDirectory(prefix="switchboard-kube-") as folder:
            cert, key = Path(folder) / "tls.crt", Path(folder) / "tls.key"
            cert.write_bytes(credentials.certificate_data)
            key.touch(mode=0o600)
            key.write_bytes(credentials.private_key_data)
            context.load_cert_chain(cert, key)
    return context


def merge_patch(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON merge patch (RFC 7386) that turns `old` into `new`: removed keys become null,
    nested objects are patched key by key, everything else is replaced when it differs."""
    old = old or {}
    patch: dict[str, Any] = {}
    for key in old:
        if key not in new:
            patch[key] = None
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            nested = merge_patch(before, value)
            if nested:
                patch[key] = nested
        elif before != value or key not in old:
            patch[key] = value
    return patch


class KubeClient:
    """A small async client for the few calls the handlers make beside kopf's own."""

    def __init__(self, loader: Callable[[], KubeCredentials]) -> None:
        self._loader = loader
        self._client: httpx.AsyncClient | None = None
        self._gate = asyncio.Semaphore(IN_FLIGHT)
        self.requests = 0
        """Requests sent, for the benchmark's requests-per-reconcile figure."""

    def _connect(self) -> httpx.AsyncClient:
        credentials = self._loader()
        headers = {"user-agent": "switchboard-operator"}
        if credentials.token:
            headers["authorization"] = f"Bearer {credentials.token}"
        return httpx.AsyncClient(
            base_url=credentials.server,
            headers=headers,
            verify=_ssl_context(credentials),
            timeout=TIMEOUT,
            limits=httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT),
        )

    async def _send(
        self, method: str, path: str, *, body: Any = None, content_type: str | None = None
    ) -> httpx.Response:
        for attempt in (1, 2):
            if self._client is None:
                self._client = self._connect()
            headers = {"content-type": content_type} if content_type else None
            self.requests += 1
            try:
                async with self._gate:
                    response = await self._client.request(method, path, json=body, headers=headers)
            except httpx.HTTPError as exc:
                raise ClusterApiError(
                    f"{method} {path}: the API server is unreachable ({type(exc).__name__})"
                ) from exc
            if response.status_code == 401 and attempt == 1:
                # Tokens rotate (projected service-account tokens, exec plugins): log in again.
                await self.aclose()
                continue
            return response
        return response

    @staticmethod
    def _fail(method: str, path: str, response: httpx.Response) -> ClusterApiError:
        try:
            message = str(response.json().get("message", ""))
        except ValueError:
            message = ""
        return ClusterApiError(f"{method} {path}: {response.status_code} {message}".rstrip())

    async def get(self, path: str) -> dict[str, Any] | None:
        """The object at `path`, or None when it does not exist."""
        response = await self._send("GET", path)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise self._fail("GET", path, response)
        result: dict[str, Any] = response.json()
        return result

    async def patch_status(self, path: str, patch: Mapping[str, Any]) -> bool:
        """Merge-patch the status subresource of the object at `path`; False when it is gone."""
        return await self.merge(f"{path}/status", {"status": patch})

    async def ensure(self, collection: str, body: Mapping[str, Any]) -> None:
        """Create the object we own if it is missing, else replace its contents (everything but
        metadata) with a merge patch. Creating first, always, keeps the verbs the same on every
        start."""
        response = await self._send("POST", collection, body=body)
        if response.status_code == 409:
            contents = {
                k: v for k, v in body.items() if k not in ("apiVersion", "kind", "metadata")
            }
            await self.merge(f"{collection}/{body['metadata']['name']}", contents)
        elif response.status_code >= 400:
            raise self._fail("POST", collection, response)

    async def merge(self, path: str, patch: Mapping[str, Any]) -> bool:
        """JSON merge patch (lists are replaced whole); False when the object is gone."""
        response = await self._send("PATCH", path, body=patch, content_type=MERGE_PATCH)
        if response.status_code == 404:
            return False
        if response.status_code >= 400:
            raise self._fail("PATCH", path, response)
        return True

    async def config_map(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self.get(f"/api/v1/namespaces/{namespace}/configmaps/{name}")

    async def read_config_map(self, ref: ConfigMapKeyRef, namespace: str) -> bytes:
        """`ConfigMapReader`: one key's bytes (`data` or `binaryData`)."""
        found = await self.config_map(namespace, ref.name)
        return config_map_value(found, ref, namespace)

    async def read_secret(self, namespace: str, name: str) -> dict[str, bytes] | None:
        """`SecretReader`: the Secret's data, decoded; None when it does not exist."""
        found = await self.get(f"/api/v1/namespaces/{namespace}/secrets/{name}")
        if found is None:
            return None
        try:
            return {
                key: base64.b64decode(value, validate=True)
                for key, value in (found.get("data") or {}).items()
            }
        except (binascii.Error, TypeError) as exc:
            raise ClusterApiError(f"Secret {namespace}/{name} has undecodable data") from exc

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def config_map_value(
    found: Mapping[str, Any] | None, ref: ConfigMapKeyRef, namespace: str
) -> bytes:
    """One key of a fetched ConfigMap; a missing map or key is the user's to fix."""
    where = f"ConfigMap {namespace}/{ref.name}"
    if found is None:
        raise SourceNotFoundError(f"{where} does not exist")
    data = found.get("data") or {}
    if ref.key in data:
        return str(data[ref.key]).encode()
    binary = found.get("binaryData") or {}
    if ref.key in binary:
        return base64.b64decode(binary[ref.key])
    raise SourceNotFoundError(f"{where} has no key {ref.key!r}")
