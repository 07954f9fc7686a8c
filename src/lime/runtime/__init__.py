"""The conversation runtime: sessions, the agent loop, tools, permissions and compaction.

Used by the CLI; it talks to services only through ``lime.providers``.
"""
