"""The HTTP layer: routes, error mapping and middleware. No SQL here; see `backend.serving`
and `backend.db.repository`."""
