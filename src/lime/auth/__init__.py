"""Credential buckets: one key (and optional base URL) per service, never mixed, never printed."""

from lime.auth.masking import mask_key, redact
from lime.auth.store import BUCKET_PREFIX, StoredCredential, bucket_name

__all__ = ["BUCKET_PREFIX", "StoredCredential", "bucket_name", "mask_key", "redact"]
