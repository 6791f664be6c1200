"""One reconcile path, used by the kopf handlers and by file mode: read, compute (pure), write."""
