"""The error hierarchy: every failure the system reports, and what a user should do about it.

    SwitchboardError
    ├── PermanentError          bad input; retrying the same input cannot help
    │   ├── InvalidSpecError        a manifest field is wrong (names the field)
    │   ├── InvalidSlugError
    │   ├── SpecParseError          a spec document is not JSON/YAML or not of its kind
    │   ├── SpecTooLargeError
    │   ├── PathEscapeError         a repository-relative path leaves the repository
    │   ├── URLNotAllowedError      the outbound-safety policy refused a URL
    │   ├── UnknownKindError        no plugin owns `spec.kind`
    │   ├── IntegrationAlreadyExistsError
    │   ├── IntegrationRemovalNotAllowedError
    │   ├── IntegrationNotFoundError
    │   ├── UnknownTemplateError
    │   ├── IntegrationMissingError     a Connection names an integration the tenant does not have
    │   ├── ConnectionAlreadyExistsError  another object declares the same connection
    │   ├── CredentialsMissingError     a Connection's Secret, key, variable or file is absent
    │   ├── CredentialsRejectedError    the upstream answered 401/403 to a connection's credentials
    │   ├── IntrospectionDisabledError  a GraphQL server refuses introspection (errors on __schema)
    │   ├── StdioNotAllowedError    a stdio MCP server while SWITCHBOARD_MCP_ALLOW_STDIO is off
    │   ├── NotAnMcpServerError     the endpoint answers, but not as an MCP server
    │   ├── NothingDetectedError    `kind: auto`: every detector answered, none recognized the URL
    │   └── PluginLoadError         a plugin failed validation at load time
    └── TemporaryError          an outage; the same input may work later (`delay` seconds)
        ├── FetchError              a remote source could not be read
        ├── StorageError            the database failed
        ├── DetectionIncompleteError  `kind: auto`: nothing recognized, some detectors failed
        └── ClusterApiError         the Kubernetes API server failed or refused a call

Every error carries a `reason` (CamelCase, for conditions) and a `field` when one input field is
to blame. Messages never contain credential values or DNS results. Third-party exceptions are
translated at the storage boundary and chained with `raise ... from`.
"""

from __future__ import annotations


class SwitchboardError(Exception):
    """Base of every error Switchboard raises on purpose."""

    reason: str = "Error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        self.detail = message
        super().__init__(f"{field}: {message}" if field else message)


class PermanentError(SwitchboardError):
    """Bad input: the condition stays until the input changes."""

    reason = "InvalidInput"


class InvalidSpecError(PermanentError):
    reason = "InvalidSpec"


class InvalidSlugError(InvalidSpecError):
    reason = "InvalidSlug"


class SpecParseError(PermanentError):
    reason = "SpecInvalid"


class SpecTooLargeError(PermanentError):
    reason = "SpecTooLarge"


class PathEscapeError(PermanentError):
    reason = "PathOutsideRepository"


class SourceNotFoundError(PermanentError):
    reason = "SourceNotFound"


class URLNotAllowedError(PermanentError):
    reason = "URLNotAllowed"


class UnknownKindError(PermanentError):
    reason = "UnknownKind"


class IntegrationAlreadyExistsError(PermanentError):
    reason = "IntegrationAlreadyExists"

    def __init__(self, slug: str, *, owner: str | None = None) -> None:
        self.slug = slug
        held = f" (declared by {owner})" if owner else ""
        super().__init__(
            f"integration {slug!r} already exists{held}; choose another slug or edit that one",
            field="spec.slug",
        )


class ConnectionAlreadyExistsError(PermanentError):
    reason = "ConnectionAlreadyExists"

    def __init__(self, address: str, *, owner: str) -> None:
        super().__init__(
            f"connection {address} is already declared by {owner}; choose another name",
            field="spec.name",
        )


class IntegrationRemovalNotAllowedError(PermanentError):
    reason = "RemovalNotAllowed"

    def __init__(self, slug: str) -> None:
        self.slug = slug
        super().__init__(f"integration {slug!r} cannot be removed (canRemove: false)")


class IntegrationNotFoundError(PermanentError):
    reason = "IntegrationNotFound"

    def __init__(self, slug: str) -> None:
        self.slug = slug
        super().__init__(f"integration not found: {slug}")


class UnknownTemplateError(PermanentError):
    reason = "UnknownTemplate"


class IntegrationMissingError(PermanentError):
    reason = "IntegrationMissing"

    def __init__(self, slug: str) -> None:
        self.slug = slug
        super().__init__(
            f"integration {slug!r} does not exist in this namespace; the connection waits for it",
            field="spec.integration",
        )


class CredentialsMissingError(PermanentError):
    """Names the variables and where they were looked for; never a value."""

    reason = "CredentialsMissing"


class CredentialsRejectedError(PermanentError):
    reason = "CredentialsRejected"


class IntrospectionDisabledError(PermanentError):
    reason = "IntrospectionDisabled"


class StdioNotAllowedError(PermanentError):
    reason = "StdioDisabled"


class NotAnMcpServerError(PermanentError):
    reason = "NotMcp"


class NothingDetectedError(PermanentError):
    reason = "NothingDetected"


class PluginLoadError(PermanentError):
    reason = "PluginLoadFailed"


class TemporaryError(SwitchboardError):
    """An outage: retry after `delay` seconds."""

    reason = "TemporaryFailure"

    def __init__(self, message: str, *, field: str | None = None, delay: float = 30.0) -> None:
        self.delay = delay
        super().__init__(message, field=field)


class FetchError(TemporaryError):
    reason = "FetchFailed"


class StorageError(TemporaryError):
    reason = "StorageFailed"


class DetectionIncompleteError(TemporaryError):
    reason = "DetectionIncomplete"


class ClusterApiError(TemporaryError):
    reason = "ClusterApiFailed"
