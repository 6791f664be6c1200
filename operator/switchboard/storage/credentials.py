"""Credential providers: a Kubernetes Secret in the connection's namespace (cluster mode),
environment variables and repository files (file mode). Each resolves template variables to
values for one call; absent ones come back as names with where they were looked for.

Values are never logged, stored, or put in an exception. A trailing newline (as `echo` and
`kubectl create secret --from-file` leave) is dropped: no header value can carry one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath

from switchboard.catalog.ports import CredentialProvider, MissingCredential, Resolved
from switchboard.errors import InvalidSpecError, PathEscapeError
from switchboard.models.connection import Credentials, SecretKeysRef
from switchboard.storage import redacting

MAX_FILE_BYTES = 64 * 1024
"""A credential file larger than this is refused unread: it is not a credential."""
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")

SecretReader = Callable[[str, str], Awaitable[dict[str, bytes] | None]]
"""`(namespace, name)` → the Secret's data, None when it does not exist. Outages raise
TemporaryError. The cluster wiring supplies it; tests use an in-memory one."""


def _text(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text.removesuffix("\n").removesuffix("\r")


def _collect(variables: Sequence[str], lookup: Callable[[str], tuple[str | None, str]]) -> Resolved:
    values: dict[str, str] = {}
    missing = []
    for variable in variables:
        value, where = lookup(variable)
        if value:
            values[variable] = value
        else:
            missing.append(MissingCredential(variable, where))
    return Resolved(values=values, missing=tuple(missing))


class SecretCredentials:
    """Variables from the keys of one Secret; a variable the `keys` map leaves out is read from
    the key of the same name (`token` → `token`)."""

    kind = "secret"

    def __init__(self, read_secret: SecretReader, namespace: str, ref: SecretKeysRef) -> None:
        self.read_secret = read_secret
        self.namespace = namespace
        self.ref = ref

    async def resolve(self, variables: Sequence[str]) -> Resolved:
        keys = self.ref.keys or {}
        for variable in variables:
            key = keys.get(variable, variable)
            if not SECRET_KEY.match(key):
                raise InvalidSpecError(
                    f"{key!r} is not a valid Secret key",
                    field=f"spec.credentials.secretRef.keys.{variable}",
                )
        data = await self.read_secret(self.namespace, self.ref.name)
        secret = f"Secret {self.namespace}/{self.ref.name}"

        def lookup(variable: str) -> tuple[str | None, str]:
            key = keys.get(variable, variable)
            if data is None:
                return None, f"{secret} not found"
            if key not in data:
                return None, f"{secret} has no key {key}"
            text = _text(data[key])
            if text is None:
                return None, f"{secret} key {key} is not UTF-8 text"
            return text, f"{secret} key {key} is empty"

        return _collect(variables, lookup)


class EnvCredentials:
    """Variables from environment variables, read at the call (so a new value is seen)."""

    kind = "env"

    def __init__(self, names: Mapping[str, str], environ: Mapping[str, str]) -> None:
        self.names = names
        self.environ = environ

    async def resolve(self, variables: Sequence[str]) -> Resolved:
        for variable in variables:
            name = self.names.get(variable)
            if name is not None and not ENV_NAME.match(name):
                raise InvalidSpecError(
                    f"{name!r} is not an environment variable name",
                    field=f"spec.credentials.env.{variable}",
                )

        def lookup(variable: str) -> tuple[str | None, str]:
            name = self.names.get(variable)
            if name is None:
                return None, "not mapped in spec.credentials.env"
            if name not in self.environ:
                return None, f"environment variable {name} is not set"
            return _text(self.environ[name].encode()), f"environment variable {name} is empty"

        return _collect(variables, lookup)


class FileCredentials:
    """Variables from repository-relative files, under the same escape rules as spec files."""

    kind = "files"

    def __init__(self, root: Path, paths: Mapping[str, str]) -> None:
        self.root = root.resolve()
        self.paths = paths

    def _target(self, variable: str, relative: str) -> Path:
        where = f"spec.credentials.files.{variable}"
        pure = PurePosixPath(relative)
        if pure.is_absolute() or relative.startswith("~"):
            raise PathEscapeError(f"{relative!r} must be relative to the repository", field=where)
        target = (self.root / pure).resolve()
        if not target.is_relative_to(self.root):
            raise PathEscapeError(f"{relative!r} leaves the repository", field=where)
        return target

    async def resolve(self, variables: Sequence[str]) -> Resolved:
        targets = {
            v: self._target(v, self.paths[v]) for v in variables if self.paths.get(v) is not None
        }

        def lookup(variable: str) -> tuple[str | None, str]:
            if variable not in targets:
                return None, "not mapped in spec.credentials.files"
            relative = self.paths[variable]
            target = targets[variable]
            if not target.is_file():
                return None, f"file {relative} does not exist"
            if target.stat().st_size > MAX_FILE_BYTES:
                return None, f"file {relative} is over {MAX_FILE_BYTES} bytes"
            try:
                raw = target.read_bytes()
            except OSError as exc:
                return None, f"file {relative} cannot be read ({type(exc).__name__})"
            text = _text(raw)
            if text is None:
                return None, f"file {relative} is not UTF-8 text"
            return text, f"file {relative} is empty"

        return _collect(variables, lookup)


class FileModeCredentials:
    """`CredentialProviders` for file mode: environment variables and repository files."""

    def __init__(self, root: Path, environ: Mapping[str, str] | None = None) -> None:
        redacting.install()  # values may now travel in query strings that libraries log
        self.root = root
        # The live process environment: a variable set after start-up is seen on the next call.
        self.environ = os.environ if environ is None else environ

    def __call__(self, tenant: str, credentials: Credentials) -> CredentialProvider:
        if credentials.secret_ref is not None:
            raise InvalidSpecError(
                "Secrets are read in cluster mode only; in file mode use env or files",
                field="spec.credentials.secretRef",
            )
        if credentials.files is not None:
            return FileCredentials(self.root, credentials.files)
        return EnvCredentials(credentials.env or {}, self.environ)


class ClusterCredentials:
    """`CredentialProviders` for the operator: Secrets in the connection's own namespace. The
    operator's environment and file system are never a tenant's credential source."""

    def __init__(self, read_secret: SecretReader) -> None:
        redacting.install()  # values may now travel in query strings that libraries log
        self.read_secret = read_secret

    def __call__(self, tenant: str, credentials: Credentials) -> CredentialProvider:
        if credentials.secret_ref is None:
            which = "env" if credentials.env is not None else "files"
            raise InvalidSpecError(
                "environment variables and files are file-mode sources; use secretRef",
                field=f"spec.credentials.{which}",
            )
        return SecretCredentials(self.read_secret, tenant, credentials.secret_ref)
