"""The ValidatingWebhookConfiguration the operator keeps current when asked to. kopf's own
management cannot express `matchConditions`; without them every metadata-only patch (kopf's
finalizer and bookkeeping annotations) and every deletion would call the webhook."""

from __future__ import annotations

import base64
from typing import Any

from switchboard.handlers.runtime import GROUP, VERSION

SPEC_CHANGED = "request.operation != 'UPDATE' || object.spec != oldObject.spec"
"""Updates that leave the spec alone (labels, finalizers, annotations) need no judgement."""
LOCKED = (
    "request.operation != 'DELETE' || (has(oldObject.status) && "
    "has(oldObject.status.canRemove) && oldObject.status.canRemove == false)"
)
"""Only deleting an integration its plugin locked is refused: other deletions are not sent."""
TIMEOUT_SECONDS = 10

# (plural, kopf handler id, operations, match conditions)
WEBHOOKS: tuple[tuple[str, str, list[str], dict[str, str]], ...] = (
    (
        "integrations",
        "validate_integration",
        ["CREATE", "UPDATE", "DELETE"],
        {"spec-changed": SPEC_CHANGED, "locked-deletion": LOCKED},
    ),
    ("connections", "validate_connection", ["CREATE", "UPDATE"], {"spec-changed": SPEC_CHANGED}),
)


def validating_configuration(name: str, url: str, ca_bundle: bytes) -> dict[str, Any]:
    """The whole object, for a server-side apply. Failures are ignored: an operator outage must
    not block applies; the reconcile judges every object anyway."""
    encoded = base64.b64encode(ca_bundle).decode("ascii")
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [
            {
                "name": f"{plural}.{name}",
                "clientConfig": {"url": f"{url}/{handler}", "caBundle": encoded},
                "rules": [
                    {
                        "apiGroups": [GROUP],
                        "apiVersions": [VERSION],
                        "resources": [plural],
                        "operations": operations,
                        "scope": "Namespaced",
                    }
                ],
                "matchConditions": [
                    {"name": key, "expression": expression}
                    for key, expression in conditions.items()
                ],
                "matchPolicy": "Equivalent",
                "failurePolicy": "Ignore",
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "timeoutSeconds": TIMEOUT_SECONDS,
            }
            for plural, handler, operations, conditions in WEBHOOKS
        ],
    }
