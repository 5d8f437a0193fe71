"""A lake whose data path is object storage: a local S3-compatible server (moto's server mode),
its endpoint and keys given the dlt way (warehouse.credentials)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from crmsync.kernel.lake import Lake
from crmsync.pipelines.sync import sync
from crmsync.sandbox.link import sandbox_environment
from crmsync.sandbox.server import SandboxServer
from crmsync.transforms.runner import run_transforms

from tests.lake.conftest import lake_query, new_lake
from tests.sources.conftest import truth

BUCKET = "crm-lake"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's S3 server on a free loopback port with one bucket; its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
    boto3.client("s3", endpoint_url=endpoint, **keys).create_bucket(Bucket=BUCKET)
    for key, value in {**keys, "endpoint_url": endpoint}.items():
        monkeypatch.setenv(f"WAREHOUSE__CREDENTIALS__{key.upper()}", value)
    yield endpoint
    server.stop()


@pytest.mark.slow  # ~30-60 s: a sync and a transform into object storage
def test_a_lake_on_s3_syncs_builds_and_keeps_its_files_in_the_bucket(
        s3: str, postgres: object, sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in sandbox_environment(sandbox.url).items():
        monkeypatch.setenv(key, value)
    lake: Lake = new_lake(postgres, tmp_path, monkeypatch, data_path=f"s3://{BUCKET}/data")

    results = sync(["waabot"], lake)
    transformed = run_transforms(lake)

    assert results["waabot"].status == "ok", results["waabot"].error
    assert transformed.status == "ok", transformed.error
    loaded = lake_query(lake, "SELECT count(*) FROM raw_waabot.contacts WHERE deleted_at IS NULL")[0][0]
    assert loaded == truth(sandbox)["counts"]["waabot"]["contacts"]
    objects = boto3.client("s3", endpoint_url=s3, aws_access_key_id="testing", aws_secret_access_key="testing",
                           region_name="us-east-1").list_objects_v2(Bucket=BUCKET, Prefix="data/")
    assert any(o["Key"].endswith(".parquet") for o in objects.get("Contents", []))
    assert not (tmp_path / "lake-data").exists()  # nothing went to a local folder instead
