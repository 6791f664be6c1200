"""Connections in the catalog: identity and address, the template checked against the integration's
auth methods, the credential reference kept instead of values, and redaction (reference §1.2, §10).

Unlike the reference, a template that the integration does not declare is refused (gap 6) instead
of silently sending no auth.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

from switchboard.catalog.ports import CredentialProviders, MissingCredential, Resolved
from switchboard.catalog.slugs import connection_identifier
from switchboard.errors import (
    PermanentError,
    SwitchboardError,
    TemporaryError,
    UnknownTemplateError,
)
from switchboard.models.auth import (
    ApiKeyTemplate,
    AuthMethodDescriptor,
    AuthPlacement,
    NoneTemplate,
    OAuth2Template,
)
from switchboard.models.connection import (
    NO_AUTH_TEMPLATE,
    Connection,
    ConnectionKey,
    ConnectionRecord,
    Credentials,
    SecretKeysRef,
)
from switchboard.models.records import IntegrationRecord
from switchboard.plugins.registry import PluginRegistry
from switchboard.plugins.templates import Template, required_variables

REDACTED = "***"
SECRET_PROVIDER = "secret:"  # noqa: S105 - a provider-name prefix, not a password


def connection_key(resource: Connection) -> ConnectionKey:
    """`(tenant, owner, subject, integration, name)`; the name defaults to `metadata.name` and is
    normalized to an identifier (`my-api-key` → `myApiKey`)."""
    spec = resource.spec
    subject = spec.owner.subject or "" if spec.owner.kind == "user" else ""
    name = connection_identifier(spec.name if spec.name is not None else resource.metadata.name)
    return ConnectionKey(resource.tenant, spec.owner.kind, subject, spec.integration, name)


def describe_methods(
    record: IntegrationRecord, registry: PluginRegistry
) -> list[AuthMethodDescriptor]:
    """The integration's auth methods as its plugin describes the stored config. An unknown kind
    raises UnknownKindError; a config the plugin cannot read describes as `[]`."""
    plugin = registry.get(record.kind)
    try:
        return plugin.describe_auth_methods(record.config)
    except (ValueError, TypeError, KeyError, AttributeError):
        return []


def valid_templates(methods: Iterable[AuthMethodDescriptor]) -> list[str]:
    """The slugs a connection may name: each method's, then `none` (always accepted)."""
    slugs = list(dict.fromkeys(m.template for m in methods))
    if NO_AUTH_TEMPLATE not in slugs:
        slugs.append(NO_AUTH_TEMPLATE)
    return slugs


def select_method(
    methods: Sequence[AuthMethodDescriptor], template: str, *, integration: str
) -> AuthMethodDescriptor | None:
    """The method `template` names; None for `none` when the integration declares no such
    method. An unknown slug raises UnknownTemplateError listing the valid ones."""
    for method in methods:
        if method.template == template:
            return method
    if template == NO_AUTH_TEMPLATE:
        return None
    valid = ", ".join(valid_templates(methods))
    raise UnknownTemplateError(
        f"{template!r} is not an auth method of integration {integration!r} (valid: {valid})",
        field="spec.template",
    )


def template_of(method: AuthMethodDescriptor | None) -> Template:
    """The template a descriptor projects, rebuilt from its public fields (enough to know which
    variables it renders; the plugin renders from its own config)."""
    if method is None or method.kind == "none":
        return NoneTemplate(slug=method.template if method else NO_AUTH_TEMPLATE)
    if method.kind == "oauth":
        return OAuth2Template(slug=method.template)
    placements = [
        AuthPlacement(
            carrier=p.carrier,
            name=p.name,
            prefix=p.prefix or None,
            variable=p.variable,
            literal=p.literal,
        )
        for p in method.placements or []
    ]
    return ApiKeyTemplate(slug=method.template, placements=placements)


def variables_for(method: AuthMethodDescriptor | None) -> list[str]:
    """The variables a connection must supply for `method` (`token` by default, none for `none`)."""
    return required_variables(template_of(method))


def credential_reference(credentials: Credentials | None) -> tuple[str, dict[str, str]]:
    """`(provider, item_ids)` for the connection row: where each value lives, never the value."""
    if credentials is None:
        return "none", {}
    if credentials.secret_ref is not None:
        ref = credentials.secret_ref
        return f"{SECRET_PROVIDER}{ref.name}", dict(ref.keys or {})
    if credentials.env is not None:
        return "env", dict(credentials.env)
    if credentials.files is not None:
        return "files", dict(credentials.files)
    return "none", {}


def credentials_from_reference(provider: str, item_ids: Mapping[str, str]) -> Credentials | None:
    """The inverse of `credential_reference`: rebuilds `spec.credentials` from a row, so a
    background rebuild needs no manifest."""
    if provider.startswith(SECRET_PROVIDER):
        name = provider.removeprefix(SECRET_PROVIDER)
        return Credentials(secret_ref=SecretKeysRef(name=name, keys=dict(item_ids) or None))
    if provider == "env":
        return Credentials(env=dict(item_ids))
    if provider == "files":
        return Credentials(files=dict(item_ids))
    return None


def secret_of(record: ConnectionRecord) -> str | None:
    """The Secret a connection row reads its values from, if any."""
    if record.provider.startswith(SECRET_PROVIDER):
        return record.provider.removeprefix(SECRET_PROVIDER)
    return None


def using_secret(records: Iterable[ConnectionRecord], namespace: str, name: str) -> list[str]:
    """Names of the objects whose connections read Secret `namespace/name`: what a Secret watch
    re-queues (with `force`, since a rotated value can change what discovery sees)."""
    return sorted(
        {
            r.resource
            for r in records
            if r.tenant == namespace and secret_of(r) == name and r.resource is not None
        }
    )


async def resolve_credentials(
    providers: CredentialProviders,
    tenant: str,
    credentials: Credentials | None,
    variables: Sequence[str],
) -> Resolved:
    """Values for `variables` from the connection's provider; what is absent is named in
    `missing`. Nothing is asked for when the template needs no variables."""
    if not variables:
        return Resolved(values={})
    if credentials is None or credential_reference(credentials)[0] == "none":
        where = "spec.credentials names no source"
        return Resolved(values={}, missing=tuple(MissingCredential(v, where) for v in variables))
    provider = providers(tenant, credentials)
    return await provider.resolve(variables)


def missing_message(missing: Collection[MissingCredential]) -> str:
    return "missing credentials: " + "; ".join(str(m) for m in missing)


def redact(text: str, values: Iterable[str]) -> str:
    """`text` with every credential value replaced; longest first, so a value that contains
    another is removed whole."""
    for value in sorted((v for v in values if v), key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text


def redact_error(error: SwitchboardError, values: Iterable[str]) -> SwitchboardError:
    """`error` itself when it shows no value, else a plain copy with the values taken out (same
    reason and field, not chained, so no cause can carry them either)."""
    secrets = [v for v in values if v]
    if not any(v in str(error) for v in secrets):
        return error
    kind = TemporaryError if isinstance(error, TemporaryError) else PermanentError
    clean = kind(redact(error.detail, secrets), field=error.field)
    clean.reason = error.reason
    return clean
