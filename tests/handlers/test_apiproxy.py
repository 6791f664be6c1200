"""How the recording proxy classifies requests into RBAC attributes (the RBAC test relies on it)."""

from __future__ import annotations

import pytest

from harness.apiproxy import classify

CASES = [
    ("GET", "/api/v1/namespaces/a/configmaps/x", ("get", "", "configmaps", "", "a")),
    ("GET", "/api/v1/configmaps?watch=true&resourceVersion=1", ("watch", "", "configmaps", "", "")),
    ("GET", "/api/v1/secrets?limit=500", ("list", "", "secrets", "", "")),
    ("POST", "/api/v1/namespaces/a/events", ("create", "", "events", "", "a")),
    (
        "PATCH",
        "/apis/switchboard.dev/v1alpha1/namespaces/a/integrations/p/status",
        ("patch", "switchboard.dev", "integrations", "status", "a"),
    ),
    (
        "PATCH",
        "/apis/kopf.dev/v1/clusterkopfpeerings/default",
        ("patch", "kopf.dev", "clusterkopfpeerings", "", ""),
    ),
    ("GET", "/api/v1/namespaces", ("list", "", "namespaces", "", "")),
    ("GET", "/api/v1/namespaces/a", ("get", "", "namespaces", "", "")),
    ("DELETE", "/api/v1/namespaces/a/pods", ("deletecollection", "", "pods", "", "a")),
    ("GET", "/apis", ("get", "", "", "", "")),
    ("GET", "/version", ("get", "", "", "", "")),
]


@pytest.mark.parametrize(("method", "path", "expected"), CASES, ids=[c[1] for c in CASES])
def test_classify(method: str, path: str, expected: tuple[str, ...]) -> None:
    assert classify(method, path) == expected
