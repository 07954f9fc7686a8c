"""Presets, model entries and the merged catalog. Never imports HTTP code."""
