"""Credential providers: environment variables and repository files (real process environment, real
files), and Secrets through an in-memory `read_secret`.

The Secret provider is exercised here with an in-memory reader because its only I/O is the
injected `read_secret`; the real Secret path (create, rotate, delete against a kube-apiserver) is
covered by the cluster tier.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from switchboard.errors import InvalidSpecError, PathEscapeError
from switchboard.models.connection import Credentials, SecretKeysRef
from switchboard.storage.credentials import (
    MAX_FILE_BYTES,
    ClusterCredentials,
    EnvCredentials,
    FileCredentials,
    FileModeCredentials,
    SecretCredentials,
)


async def test_env_reads_the_live_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = FileModeCredentials(Path())(
        "acme", Credentials(env={"token": "SB_TEST_TOKEN", "app": "SB_TEST_APP"})
    )
    assert provider.kind == "env"
    monkeypatch.delenv("SB_TEST_TOKEN", raising=False)
    monkeypatch.setenv("SB_TEST_APP", "")
    first = await provider.resolve(["token", "app"])
    assert first.values == {}
    assert [str(m) for m in first.missing] == [
        "token (environment variable SB_TEST_TOKEN is not set)",
        "app (environment variable SB_TEST_APP is empty)",
    ]
    monkeypatch.setenv("SB_TEST_TOKEN", "t-123\n")
    monkeypatch.setenv("SB_TEST_APP", "a-456")
    second = await provider.resolve(["token", "app"])
    assert second.values == {"token": "t-123", "app": "a-456"} and second.missing == ()
    assert "t-123" not in repr(second)


async def test_env_unmapped_variable_and_bad_names() -> None:
    provider = EnvCredentials({"token": "OK"}, {"OK": "v"})
    result = await provider.resolve(["token", "dd_app_key"])
    assert [str(m) for m in result.missing] == ["dd_app_key (not mapped in spec.credentials.env)"]
    with pytest.raises(InvalidSpecError, match=r"spec\.credentials\.env\.token"):
        await EnvCredentials({"token": "NOT-A-NAME"}, {}).resolve(["token"])


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "secrets").mkdir(parents=True)
    return root


async def test_files_are_read_relative_to_the_repository(repo: Path) -> None:
    (repo / "secrets/pet.token").write_text("pet-value\n")
    (repo / "secrets/empty").write_text("")
    (repo / "secrets/binary").write_bytes(b"\xff\xfe")
    (repo / "secrets/huge").write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    provider = FileModeCredentials(repo)(
        "acme",
        Credentials(
            files={
                "token": "secrets/pet.token",
                "a": "secrets/absent",
                "b": "secrets/empty",
                "c": "secrets/binary",
                "d": "secrets/huge",
            }
        ),
    )
    result = await provider.resolve(["token", "a", "b", "c", "d", "e"])
    assert result.values == {"token": "pet-value"}
    assert [str(m) for m in result.missing] == [
        "a (file secrets/absent does not exist)",
        "b (file secrets/empty is empty)",
        "c (file secrets/binary is not UTF-8 text)",
        f"d (file secrets/huge is over {MAX_FILE_BYTES} bytes)",
        "e (not mapped in spec.credentials.files)",
    ]


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("../outside.token", "parent traversal"),
        ("/etc/hostname", "absolute path"),
        ("~/token", "home directory"),
        ("secrets/link", "a symlink that points out of the repository"),
    ],
)
async def test_files_cannot_leave_the_repository(repo: Path, path: str, why: str) -> None:
    outside = repo.parent / "outside.token"
    outside.write_text("not yours")
    (repo / "secrets/link").symlink_to(outside)
    provider = FileCredentials(repo, {"token": path})
    with pytest.raises(PathEscapeError) as caught:
        await provider.resolve(["token"])
    assert caught.value.field == "spec.credentials.files.token", why
    assert "not yours" not in str(caught.value)


class FakeSecrets:
    """An in-memory Secret store with the reader's signature; counts reads."""

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], dict[str, bytes]] = {}
        self.reads: list[tuple[str, str]] = []

    async def __call__(self, namespace: str, name: str) -> dict[str, bytes] | None:
        self.reads.append((namespace, name))
        return self.data.get((namespace, name))


async def test_secret_keys_missing_then_created_then_rotated() -> None:
    secrets = FakeSecrets()
    ref = SecretKeysRef(name="pet", keys={"token": "api-key"})
    provider = ClusterCredentials(secrets)("acme", Credentials(secret_ref=ref))
    assert provider.kind == "secret"
    absent = await provider.resolve(["token"])
    assert [str(m) for m in absent.missing] == ["token (Secret acme/pet not found)"]
    secrets.data[("acme", "pet")] = {"other": b"x"}
    wrong_key = await provider.resolve(["token"])
    assert [str(m) for m in wrong_key.missing] == ["token (Secret acme/pet has no key api-key)"]
    secrets.data[("acme", "pet")] = {"api-key": b"v1\n"}
    assert (await provider.resolve(["token"])).values == {"token": "v1"}
    secrets.data[("acme", "pet")] = {"api-key": b"v2"}  # rotated: read again on every call
    assert (await provider.resolve(["token"])).values == {"token": "v2"}
    assert secrets.reads == [("acme", "pet")] * 4


async def test_secret_defaults_keys_to_variable_names_and_stays_in_namespace() -> None:
    secrets = FakeSecrets()
    secrets.data[("acme", "dd")] = {"dd_api_key": b"k", "dd_app_key": b"\xff"}
    secrets.data[("other", "dd")] = {"dd_api_key": b"foreign"}
    provider = SecretCredentials(secrets, "acme", SecretKeysRef(name="dd"))
    result = await provider.resolve(["dd_api_key", "dd_app_key"])
    assert result.values == {"dd_api_key": "k"}
    assert [str(m) for m in result.missing] == [
        "dd_app_key (Secret acme/dd key dd_app_key is not UTF-8 text)"
    ]
    with pytest.raises(InvalidSpecError, match=r"secretRef\.keys\.token"):
        await SecretCredentials(
            secrets, "acme", SecretKeysRef(name="dd", keys={"token": "../x"})
        ).resolve(["token"])


def test_each_mode_refuses_the_other_modes_sources(tmp_path: Path) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        FileModeCredentials(tmp_path)("acme", Credentials(secret_ref=SecretKeysRef(name="x")))
    assert caught.value.field == "spec.credentials.secretRef"
    cluster = ClusterCredentials(FakeSecrets())
    for credentials, field in (
        (Credentials(env={"token": "HOME"}), "spec.credentials.env"),
        (Credentials(files={"token": "/etc/passwd"}), "spec.credentials.files"),
    ):
        with pytest.raises(InvalidSpecError) as refused:
            cluster("acme", credentials)
        assert refused.value.field == field  # the operator's environment is never a source
    assert os.environ  # (the process environment exists; it is simply not consulted)


def test_url_logging_libraries_never_log_query_strings(caplog: pytest.LogCaptureFixture) -> None:
    FileModeCredentials(Path())  # a credential source installs the filter
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpx").info(
        'HTTP Request: %s %s "%s"', "GET", "http://127.0.0.1:9/tools?api_key=s3cr3t&x=1", "200"
    )
    logging.getLogger("httpx").info("no url here: %d", 5)
    logging.getLogger("switchboard.other").info("http://h/p?kept=1")  # not a URL-logging library
    assert [r.getMessage() for r in caplog.records] == [
        'HTTP Request: GET http://127.0.0.1:9/tools?<query hidden> "200"',
        "no url here: 5",
        "http://h/p?kept=1",
    ]
