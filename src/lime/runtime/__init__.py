"""The conversation runtime: the session factory (``setup``), sessions, the agent loop, tools,
permissions and compaction.

Where new capabilities plug in: a tool takes the ``registry.Tool`` shape and is handed to
``setup.open_session(tools=...)``; every call goes through ``executor.Executor`` (rules, modes,
approvals, ``before_tool``/``after_tool`` hooks); whoever wants to see a conversation subscribes
to ``agent.events`` (``events.EventBus``). None of them reaches into the loop (``agent``).

May import: providers, tokens, catalog, auth, config, storage, errors and the leaf modules. Never
``lime.local`` or ``lime.cli``: lime's own server is reached through the prepare/recover hooks
(``setup.Endpoint``) that the CLI and the Python API pass in. Services are reached only through
``lime.providers``.
"""
