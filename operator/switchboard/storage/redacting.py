"""Keeping credentials out of third-party logs: HTTP libraries log request URLs (httpx at INFO:
`HTTP Request: GET https://host/path?api_key=...`), and a query placement puts a credential in
the query string. A filter on those loggers drops every query string before a handler sees it."""

from __future__ import annotations

import logging
import re

LOGGERS = ("httpx", "httpcore", "mcp")
"""Libraries that log URLs they fetch."""
_QUERY = re.compile(r"(\w+://[^\s?#\"'<>]*)\?[^\s#\"'<>]*")
HIDDEN = "?<query hidden>"


class QueryRedactingFilter(logging.Filter):
    """Rewrites a record's message with URL query strings replaced; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to logging's own handling
            return True
        cleaned = _QUERY.sub(lambda m: m.group(1) + HIDDEN, message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_FILTER = QueryRedactingFilter()


def install() -> None:
    """Attach the filter to the URL-logging libraries' loggers (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
