"""The storage setting: WORKBENCH_STORAGE as Django's STORAGES["default"] entry (read by settings.py)."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured


def storage_backend(url: str) -> dict[str, Any]:
    """The STORAGES["default"] entry for WORKBENCH_STORAGE: empty → MEDIA_ROOT, s3://bucket/prefix → S3.

    Keys come from boto3's own chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, an
    instance role); a name never overwrites a stored file (a taken name gets a suffix, as locally).
    """
    if not url.strip():
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    parsed = urlsplit(url.strip())
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ImproperlyConfigured(f"WORKBENCH_STORAGE must be empty or s3://bucket/prefix, got {url!r}")
    endpoint = os.environ.get("WORKBENCH_S3_ENDPOINT_URL") or None
    options: dict[str, Any] = {
        "bucket_name": parsed.netloc,
        "location": parsed.path.strip("/"),
        "endpoint_url": endpoint,
        "region_name": os.environ.get("WORKBENCH_S3_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None,
        "file_overwrite": False,
        "default_acl": None,  # the bucket's own policy (private)
        # MinIO and most S3-compatible servers want path-style URLs; AWS takes either.
        "addressing_style": os.environ.get("WORKBENCH_S3_ADDRESSING_STYLE") or ("path" if endpoint else None),
        "signature_version": "s3v4",
        # Stored files are opaque bytes: without this, a .tar.gz would get Content-Encoding: gzip
        # (from its suffix) and HTTP clients of a presigned URL would unpack it on the way.
        "object_parameters": {"ContentType": "application/octet-stream"},
    }
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
