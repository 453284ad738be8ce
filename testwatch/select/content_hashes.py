"""The short, stable hash of a file's content that fingerprints, caches and the environment share.

Standard library only and nothing else: ``testwatch run --deps`` fingerprints the environment
before its pytest starts, without the parser the rest of the fingerprints need.
"""

from __future__ import annotations

import hashlib


def content_hash(data: bytes) -> str:
    """A short, stable hash of file content."""
    return hashlib.blake2b(data, digest_size=10).hexdigest()
