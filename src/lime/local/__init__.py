"""lime's managed local llama.cpp server (the optional ``local`` extra).

May import: providers (discovery), tokens, catalog, auth, config, storage, errors and the leaf
modules. Never runtime or cli: it serves the runtime as hooks (``connect.LocalEndpoint``) that the
CLI and the Python API hand to the session factory.
"""
