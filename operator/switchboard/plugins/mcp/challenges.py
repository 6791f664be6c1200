"""`WWW-Authenticate` parsing (RFC 9110 §11.6.1): the challenges a 401 carries, with their
auth-params, so the probe can tell an MCP bearer challenge from any other 401."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TCHAR = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_SCHEME = re.compile(rf"\s*({_TCHAR})(?=\s|,|$)")
_PARAM = re.compile(rf'\s*({_TCHAR})\s*=\s*("(?:[^"\\]|\\.)*"|{_TCHAR})\s*')
_TOKEN68 = re.compile(r"\s*([A-Za-z0-9\-._~+/]+=*)\s*(?=,|$)")


@dataclass(frozen=True)
class Challenge:
    """One challenge: the scheme (lowercased) and its parameters (names lowercased)."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge in a `WWW-Authenticate` value; unparseable tails are dropped, never raised
    (the header comes from an untrusted server)."""
    challenges: list[Challenge] = []
    pos = 0
    text = header or ""
    while pos < len(text):
        scheme = _SCHEME.match(text, pos)
        if scheme is None:
            comma = text.find(",", pos)
            if comma < 0:
                break
            pos = comma + 1
            continue
        pos = scheme.end()
        params: dict[str, str] = {}
        while True:
            param = _PARAM.match(text, pos)
            if param is None:
                token68 = None if params else _TOKEN68.match(text, pos)
                pos = token68.end() if token68 is not None else pos
                break
            params[param.group(1).lower()] = _unquote(param.group(2))
            pos = param.end()
            # A comma separates this challenge's params or starts the next challenge.
            if pos >= len(text) or text[pos] != "," or _PARAM.match(text, pos + 1) is None:
                break
            pos += 1
        challenges.append(Challenge(scheme=scheme.group(1).lower(), params=params))
        while pos < len(text) and text[pos] in ", ":
            pos += 1
    return challenges


def bearer_challenge(header: str | None) -> Challenge | None:
    """The `Bearer` challenge, if the header has one."""
    if not header:
        return None
    return next((c for c in parse_challenges(header) if c.scheme == "bearer"), None)
