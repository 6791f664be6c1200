"""The status emitter: block YAML that loads back to exactly the data, deterministically."""

from __future__ import annotations

import random
import string

import pytest
import yaml

from switchboard.storage.emitting import dump_block

TRICKY = [
    "",
    " ",
    "yes",
    "No",
    "null",
    "~",
    "true",
    "123",
    "1.5",
    "0x1F",
    "-",
    "- a",
    "a: b",
    "a #b",
    "#c",
    "@x",
    "`x`",
    "'q'",
    '"dq"',
    "multi\nline",
    "tab\there",
    "Ünïcode",
    "emoji 🎉",
    "key:",
    "Bearer ",
    "2026-11-28T15:58:14Z",
    "sha256:abc",
    "[x]",
    "{x}",
    "*alias",
    "&anchor",
    "!tag",
    "%pct",
    "a,b",
    "?",
    "|",
    ">",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_strings_round_trip(text: str) -> None:
    data = {"value": text, "list": [text], "nested": {text or "empty": text}}
    assert yaml.safe_load(dump_block("status", data)) == {"status": data}


def _random(rng: random.Random, depth: int) -> object:
    kind = rng.randrange(7 if depth < 4 else 4)
    if kind == 0:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(12)))
    if kind == 1:
        return rng.choice([0, -3, 7.25, True, False, None])
    if kind == 2:
        return rng.choice(TRICKY)
    if kind == 3:
        return rng.randrange(10**12)
    if kind in (4, 5):
        return {f"k{rng.randrange(99)}": _random(rng, depth + 1) for _ in range(rng.randrange(4))}
    return [_random(rng, depth + 1) for _ in range(rng.randrange(4))]


def test_random_documents_round_trip_and_are_deterministic() -> None:
    rng = random.Random(20261128)
    for _ in range(500):
        data = {"root": _random(rng, 0)}
        text = dump_block("status", data)
        assert yaml.safe_load(text) == {"status": data}, text
        assert dump_block("status", data) == text
