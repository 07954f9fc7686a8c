"""Presets, model entries, the merged catalog and routing (slug -> endpoint, key, capabilities).

May import: auth, config, storage, errors and the leaf modules. Never HTTP code, providers,
tokens, local, runtime or cli (whether the offline model can run comes in as an argument).
"""
