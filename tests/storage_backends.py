"""The two storages a stored file can live in, for tests: the local data directory and a real
S3-compatible server (moto's standalone server, over HTTP on loopback, started by the tests).

The `backend` fixture (tests/conftest.py) runs a test on both: it points STORAGES["default"] at
a fresh folder or bucket, gives the environment a child process needs to reach the same storage,
and can remove or change a stored file behind the application's back (as a lost volume or a disk
fault would).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import require_service
from workbench.storages import storage_backend

REGION = "us-east-1"
KEYS = {"AWS_ACCESS_KEY_ID": "workbench-test", "AWS_SECRET_ACCESS_KEY": "workbench-test"}


def moto_s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free loopback port (tests/conftest.py's `s3_endpoint`, once per run)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        require_service(False, "moto's S3 server (pip install moto[s3] flask flask-cors)")
        raise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Backend:
    kind: str
    env: dict[str, str] = field(default_factory=dict)  # for a child process on the same storage
    root: Path | None = None  # local
    bucket: str = ""  # s3
    prefix: str = ""
    client: Any = None

    def remove(self, name: str) -> None:
        if self.root is not None:
            (self.root / name).unlink()
        else:
            self.client.delete_object(Bucket=self.bucket, Key=f"{self.prefix}/{name}")

    def overwrite(self, name: str, data: bytes) -> None:
        if self.root is not None:
            (self.root / name).write_bytes(data)
        else:
            self.client.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{name}", Body=data)

    def read(self, name: str) -> bytes:
        if self.root is not None:
            return (self.root / name).read_bytes()
        return bytes(self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}/{name}")["Body"].read())

    def names(self) -> list[str]:
        """Every stored file, as the storage itself lists them."""
        if self.root is not None:
            return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())
        listed = self.client.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return sorted(item["Key"].removeprefix(f"{self.prefix}/") for item in listed)


def use_backend(
    kind: str, request: pytest.FixtureRequest, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Backend:
    """Point STORAGES["default"] at a fresh folder ("local") or bucket ("s3") for one test."""
    if kind == "local":
        root = tmp_path / "media"
        settings.MEDIA_ROOT = root
        settings.STORAGES = {**settings.STORAGES, "default": storage_backend("")}
        return Backend("local", env={"MEDIA_ROOT": str(root), "WORKBENCH_STORAGE": ""}, root=root)
    endpoint = request.getfixturevalue("s3_endpoint")
    env = {**KEYS, "WORKBENCH_S3_ENDPOINT_URL": endpoint, "WORKBENCH_S3_REGION": REGION}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    bucket = f"workbench-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    client.create_bucket(Bucket=bucket)
    url = f"s3://{bucket}/stored"
    settings.STORAGES = {**settings.STORAGES, "default": storage_backend(url)}
    env["WORKBENCH_STORAGE"] = url
    return Backend("s3", env=env, bucket=bucket, prefix="stored", client=client)
