"""`interdit serve`: the REST API (OpenAPI at /openapi.json, browsable at /docs) and the dashboard.

`app.create_app(settings)` builds the whole server. The shared pieces sit here (`context`, `auth`, `cache`,
`oidc`, `problems`, `views`, `schemas`); `api/` holds one router per resource, `web/` the dashboard. The two
faces never import each other.
"""
