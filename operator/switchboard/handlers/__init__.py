"""kopf handlers and admission webhooks: thin (parse, call reconcile, write status)."""
