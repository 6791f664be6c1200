"""`switchboard operator`: the kopf controller for Integration and Connection resources, with its
admission webhook, liveness endpoint and peering."""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from switchboard.cli.common import DbOption, _settings, app, err

OPERATOR_CONCURRENCY = 32
PathOption = Annotated[Path | None, typer.Option(dir_okay=False)]


class LogFormat(StrEnum):
    plain = "plain"
    full = "full"
    json = "json"


@app.command()
def operator(
    db: DbOption = None,
    kubeconfig: Annotated[
        Path | None,
        typer.Option(dir_okay=False, help="Kubeconfig (default: in-cluster, else $KUBECONFIG)."),
    ] = None,
    namespace: Annotated[
        list[str] | None,
        typer.Option("--namespace", "-n", help="Watch only these namespaces (default: all)."),
    ] = None,
    priority: Annotated[
        int | None,
        typer.Option(
            help="Peering priority; the highest runs, the others stand by (default: random)."
        ),
    ] = None,
    peering: Annotated[
        str,
        typer.Option(
            help="ClusterKopfPeering (KopfPeering with --namespace) shared by the replicas; "
            "without that object or its CRD the operator runs alone."
        ),
    ] = "switchboard",
    standalone: Annotated[
        bool, typer.Option("--standalone", help="Run without peering (a single replica).")
    ] = False,
    liveness: Annotated[
        str | None,
        typer.Option(help="Liveness endpoint, e.g. http://0.0.0.0:8080/healthz (default: none)."),
    ] = None,
    webhook_listen: Annotated[
        str, typer.Option(help="Address the admission webhook listens on.")
    ] = "127.0.0.1",
    webhook_port: Annotated[int, typer.Option(help="Webhook port (0: any free port).")] = 9443,
    webhook_host: Annotated[
        str | None,
        typer.Option(
            help="Host name or address the API server calls (default: the listen address)."
        ),
    ] = None,
    webhook_cert: PathOption = None,
    webhook_key: PathOption = None,
    webhook_ca: PathOption = None,
    webhook_config: Annotated[
        str,
        typer.Option(
            help="ValidatingWebhookConfiguration kept current by the operator; empty when the "
            "chart installs it (then no RBAC on webhook configurations is needed)."
        ),
    ] = "switchboard.dev",
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=256,
            help="Registrations in flight at once (SWITCHBOARD_CONCURRENCY; default 32, above "
            "file mode's: they share one event loop with every watch and webhook call).",
        ),
    ] = None,
    log_format: Annotated[LogFormat, typer.Option(help="plain, full or json.")] = LogFormat.json,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the controller: reconcile Integrations and Connections into the catalog database
    (`--db`, tenant = namespace) and write their status."""
    import kopf  # imported here: the other commands never need kopf

    import switchboard.handlers  # noqa: F401 - importing registers the handlers
    from switchboard.handlers.runtime import OperatorOptions, WebhookOptions

    settings = _settings(db=db, concurrency=concurrency)
    if "concurrency" not in settings.model_fields_set:
        settings.concurrency = OPERATOR_CONCURRENCY
    if (webhook_cert is None) != (webhook_key is None):
        err.print("[red]error:[/] --webhook-cert and --webhook-key go together")
        raise typer.Exit(2)
    options = OperatorOptions(
        kubeconfig=kubeconfig,
        peering=peering,
        webhook=WebhookOptions(
            listen=webhook_listen,
            port=webhook_port,
            host=webhook_host,
            cert_file=webhook_cert,
            key_file=webhook_key,
            ca_file=webhook_ca,
            managed=webhook_config or None,
        ),
    )
    kopf.configure(verbose=verbose, log_format=kopf.LogFormat[log_format.name.upper()])
    kopf.run(
        clusterwide=not namespace,
        namespaces=namespace or (),
        standalone=standalone,
        priority=priority if priority is not None else 1 + secrets.randbelow(1_000_000),
        liveness_endpoint=liveness,
        memo=kopf.Memo(options=options, settings=settings),
    )
