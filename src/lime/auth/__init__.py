"""Credential buckets: one key (and optional base URL) per service, never mixed, never printed.

May import: config, storage, errors and the leaf modules. Never the catalog: what key resolution
needs from a preset comes in as an argument (``resolve.Preset``).
"""

from lime.auth.masking import mask_key, redact
from lime.auth.store import BUCKET_PREFIX, StoredCredential, bucket_name

__all__ = ["BUCKET_PREFIX", "StoredCredential", "bucket_name", "mask_key", "redact"]
