"""The ``lime`` command: ``main`` parses and picks the mode; ``setup`` turns chat flags into a
session (both modes start there), ``ui`` shows it, ``oneshot`` and ``repl`` run it (neither imports
the other); ``*_cmd`` modules are the subcommands.

May import every other layer; nothing imports it but ``lime.__main__`` (``lime.api`` is its
sibling: neither imports the other).
"""
