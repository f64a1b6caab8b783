"""annotations.storage on both backends: the local data directory and a real S3-compatible server."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from annotations.storage import (
    StorageError,
    StoredFileCorrupt,
    StoredFileMissing,
    local_copy,
    stored_delete,
    stored_exists,
    stored_open,
    stored_open_verified,
    stored_save,
    stored_save_dir,
    stored_size,
    stored_verify,
)
from workbench.storages import storage_backend

DATA = os.urandom(300_000)
SHA = hashlib.sha256(DATA).hexdigest()


def model_folder(root: Path) -> Path:
    (root / "ner").mkdir(parents=True)
    (root / "meta.json").write_text('{"version": 3}')
    (root / "ner" / "weights.bin").write_bytes(DATA)
    return root


def test_saving_streams_the_bytes_and_computes_their_sha256(backend, tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(DATA)

    from_chunks = stored_save("models/a.bin", [DATA[:1000], b"", DATA[1000:]])
    from_path = stored_save("models/b.bin", path)
    from_file = stored_save("models/c.bin", io.BytesIO(DATA))

    assert [(f.name, f.sha256, f.size) for f in (from_chunks, from_path, from_file)] == [
        ("models/a.bin", SHA, len(DATA)),
        ("models/b.bin", SHA, len(DATA)),
        ("models/c.bin", SHA, len(DATA)),
    ]
    assert backend.read("models/a.bin") == DATA
    with stored_open("models/c.bin") as handle:
        assert handle.read() == DATA
    assert stored_exists("models/b.bin") and stored_size("models/b.bin") == len(DATA)


def test_a_file_larger_than_one_upload_part_goes_through_whole(backend):
    big = os.urandom(9 * 1024 * 1024 + 3)  # over S3's 8 MB multipart threshold: uploaded in parts

    stored = stored_save("exports/big.bin", (big[i : i + 65536] for i in range(0, len(big), 65536)))

    assert stored.sha256 == hashlib.sha256(big).hexdigest()
    assert stored.size == len(big)
    with stored_open_verified(stored.name, stored.sha256) as handle:
        assert handle.read() == big


def test_a_taken_name_is_never_overwritten(backend):
    first = stored_save("models/m.bin", [b"first"])

    second = stored_save("models/m.bin", [b"second"])

    assert first.name == "models/m.bin"
    assert second.name != first.name and second.name.startswith("models/m") and second.name.endswith(".bin")
    assert backend.read(first.name) == b"first"
    assert backend.read(second.name) == b"second"


def test_a_save_that_fails_half_way_leaves_nothing(backend):
    def broken():
        yield DATA
        raise RuntimeError("the export failed")

    with pytest.raises(RuntimeError, match="the export failed"):
        stored_save("datasets/p/broken.jsonl", broken())

    assert backend.names() == []


def test_verify_tells_a_missing_file_from_a_changed_one(backend):
    stored = stored_save("models/a.bin", [DATA])
    stored_verify(stored.name, SHA)

    backend.overwrite(stored.name, DATA[:-1] + b"x")
    with pytest.raises(StoredFileCorrupt) as corrupt:
        stored_verify(stored.name, SHA)
    backend.remove(stored.name)
    with pytest.raises(StoredFileMissing) as missing:
        stored_verify(stored.name, SHA)

    changed = hashlib.sha256(DATA[:-1] + b"x").hexdigest()
    assert str(corrupt.value) == f"stored file 'models/a.bin' has sha256 {changed}, not the recorded {SHA}"
    assert str(missing.value) == "stored file 'models/a.bin' is missing from the storage"
    assert isinstance(corrupt.value, StorageError) and isinstance(missing.value, StorageError)
    with pytest.raises(StoredFileMissing):
        stored_open(stored.name)


def test_a_verified_open_refuses_changed_bytes_before_giving_any(backend):
    stored = stored_save("datasets/p/v1.jsonl", [DATA])
    with stored_open_verified(stored.name, SHA) as handle:
        assert handle.read() == DATA

    backend.overwrite(stored.name, b"tampered")

    with pytest.raises(StoredFileCorrupt):
        stored_open_verified(stored.name, SHA)


def test_delete_removes_and_a_missing_file_is_not_an_error(backend):
    stored = stored_save("models/a.bin", [DATA])

    stored_delete(stored.name)
    stored_delete(stored.name)

    assert not stored_exists(stored.name)
    assert backend.names() == []


def test_a_folder_is_stored_as_a_reproducible_archive_and_unpacked_by_local_copy(backend, tmp_path):
    folder = model_folder(tmp_path / "model")

    stored = stored_save_dir("models/ner-v3", folder)
    again = stored_save_dir("models/ner-v3", folder)
    copy = local_copy(stored.name, stored.sha256, cache_dir=tmp_path / "cache")

    assert stored.name == "models/ner-v3.tar.gz"
    assert again.sha256 == stored.sha256  # same folder, same bytes: no times or owners inside
    assert copy == tmp_path / "cache" / stored.sha256 / "unpacked"
    assert sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*")) == ["meta.json", "ner", "ner/weights.bin"]
    assert (copy / "ner" / "weights.bin").read_bytes() == DATA


def test_local_copy_of_a_plain_file_is_that_file_in_the_default_cache(backend, tmp_path, settings):
    settings.MODEL_CACHE_DIR = tmp_path / "model-cache"
    stored = stored_save("models/classifier.joblib", [DATA])

    copy = local_copy(stored.name, stored.sha256)

    assert copy == tmp_path / "model-cache" / SHA / "classifier.joblib"
    assert copy.read_bytes() == DATA


def test_local_copy_is_reused_without_the_storage_and_fetched_again_when_damaged(backend, tmp_path):
    stored = stored_save("models/a.bin", [DATA])
    cache = tmp_path / "cache"
    first = local_copy(stored.name, SHA, cache_dir=cache)
    backend.remove(stored.name)

    reused = local_copy(stored.name, SHA, cache_dir=cache)  # the storage no longer has it
    first.write_bytes(b"damaged")
    with pytest.raises(StoredFileMissing):
        local_copy(stored.name, SHA, cache_dir=cache)  # damaged copy dropped, fetch fails

    assert reused == first
    assert list(cache.iterdir()) == []


def test_local_copy_refuses_a_changed_file_and_keeps_nothing(backend, tmp_path):
    stored = stored_save("models/a.tar.gz", [b"not what was recorded"])

    with pytest.raises(StoredFileCorrupt):
        local_copy(stored.name, SHA, cache_dir=tmp_path / "cache")

    assert list((tmp_path / "cache").iterdir()) == []


def test_threads_fetching_at_once_end_with_one_complete_copy(backend, tmp_path):
    stored = stored_save_dir("models/m", model_folder(tmp_path / "model"))
    cache = tmp_path / "cache"
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(local_copy(stored.name, stored.sha256, cache_dir=cache)))
        for _ in range(4)
    ]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [cache / stored.sha256 / "unpacked"] * 4
    assert [p.name for p in cache.iterdir()] == [stored.sha256]  # no partial or trash folder left
    assert (results[0] / "ner" / "weights.bin").read_bytes() == DATA


FETCH = (
    "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'workbench.settings'); django.setup()\n"
    "from annotations.storage import local_copy\n"
    "print(local_copy(sys.argv[1], sys.argv[2]))\n"
)


def test_processes_fetching_at_once_each_get_a_complete_copy(backend, tmp_path):
    stored = stored_save_dir("models/m", model_folder(tmp_path / "model"))
    shared = tmp_path / "shared-cache"

    def start(cache: Path) -> subprocess.Popen[str]:
        env = {**os.environ, **backend.env, "WORKBENCH_MODEL_CACHE": str(cache)}
        return subprocess.Popen(
            [sys.executable, "-c", FETCH, stored.name, stored.sha256],
            cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    processes = [start(tmp_path / "own-cache"), start(shared), start(shared)]
    outputs = [process.communicate(timeout=120) for process in processes]

    assert [process.returncode for process in processes] == [0, 0, 0], [err for _, err in outputs]
    paths = [Path(out.strip()) for out, _ in outputs]
    assert paths == [
        tmp_path / "own-cache" / stored.sha256 / "unpacked",
        shared / stored.sha256 / "unpacked",
        shared / stored.sha256 / "unpacked",
    ]
    assert all((path / "ner" / "weights.bin").read_bytes() == DATA for path in paths)
    assert [p.name for p in shared.iterdir()] == [stored.sha256]


def test_workbench_storage_selects_the_local_folder_or_a_bucket(monkeypatch):
    monkeypatch.setenv("WORKBENCH_S3_ENDPOINT_URL", "http://minio.internal:9000")
    monkeypatch.setenv("WORKBENCH_S3_REGION", "eu-west-1")

    local = storage_backend("")
    bucket = storage_backend("s3://team-bucket/workbench/prod/")

    assert local == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert bucket["BACKEND"] == "storages.backends.s3.S3Storage"
    assert {key: bucket["OPTIONS"][key] for key in ("bucket_name", "location", "endpoint_url", "region_name")} == {
        "bucket_name": "team-bucket",
        "location": "workbench/prod",
        "endpoint_url": "http://minio.internal:9000",
        "region_name": "eu-west-1",
    }
    assert bucket["OPTIONS"]["file_overwrite"] is False
    assert bucket["OPTIONS"]["addressing_style"] == "path"


@pytest.mark.parametrize("url", ["gs://bucket/prefix", "s3:///prefix-without-bucket", "/var/lib/workbench"])
def test_a_workbench_storage_that_is_not_a_bucket_url_stops_the_process(url):
    with pytest.raises(ImproperlyConfigured, match="WORKBENCH_STORAGE must be empty or s3://bucket/prefix"):
        storage_backend(url)
