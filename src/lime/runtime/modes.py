"""The permission modes, in one list: the CLI's ``--permission-mode`` choices and the policy's
modes (``lime.runtime.permissions`` re-exports it). A leaf module so argument parsing stays cheap."""

MODES = ("default", "plan", "acceptEdits", "bypassPermissions", "dontAsk")
