"""The conversation runtime: the session factory (``setup``), sessions, the agent loop, tools,
permissions and compaction.

May import: providers, tokens, catalog, auth, config, storage, errors and the leaf modules. Never
``lime.local`` or ``lime.cli``: lime's own server is reached through the prepare/recover hooks
(``setup.Endpoint``) that the CLI and the Python API pass in. Services are reached only through
``lime.providers``.
"""
