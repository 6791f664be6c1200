"""kopf handlers and admission webhooks: thin (parse, call reconcile, write status). Importing the
package registers them all: `kopf run -m switchboard.handlers`, or `switchboard operator`."""

from switchboard.handlers import (
    admission,
    connections,
    dependencies,
    integrations,
    lifecycle,
    watching,
)

__all__ = ["admission", "connections", "dependencies", "integrations", "lifecycle", "watching"]
