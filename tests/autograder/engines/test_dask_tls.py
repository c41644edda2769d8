"""tls:// end to end: a scheduler, a worker and the command with certificate files (mutual TLS,
encryption required) grade like the local engine; a plain tcp:// client cannot talk to it."""
from __future__ import annotations

import io
import shutil
import subprocess
import sys

import pytest

from autograder.engines.dask_engine import DaskEngine, SchedulerUnreachable, security_for
from autograder.pipeline.run import grade_class
from tools.demo_class import build_class

from fixtures.dask_cluster import (ROOT, close_cluster, cluster_skip_reason, copy_kit,
                                   open_cluster, wait_for_workers)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory):
    reason = cluster_skip_reason() or (None if shutil.which("openssl") else "openssl not found")
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("tls")
    cert, key = base / "cert.pem", base / "key.pem"  # one self-signed certificate: CA and all roles
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=autograder-test"],
                   check=True, capture_output=True)
    files = ("--tls-ca-file", str(cert), "--tls-cert", str(cert), "--tls-key", str(key))
    found = open_cluster(base, "tls", files)
    try:
        kit = copy_kit(tmp_path_factory.mktemp("kit-tls"))
        found.start_worker("tls1", kit, command=[
            sys.executable, "-m", "autograder", "worker", found.address, "--nthreads", "2",
            "--name", "tls1", *files])
        yield found, (str(cert), str(cert), str(key))
    finally:
        close_cluster(found)


def test_tls_cluster_grades_like_the_local_engine(tls_cluster):
    from distributed import Client

    cluster, (ca, cert, key) = tls_cluster
    security = security_for(cluster.address, ca, cert, key)
    with Client(cluster.address, security=security, timeout=30, set_as_default=False) as client:
        wait_for_workers(client, {"tls1"})
    submitted = cluster.hidden / "submitted"
    build_class(submitted, n=1, seed=5)
    for folder in submitted.glob("*/a[2-5]_*"):  # one real notebook, four missing rows
        shutil.rmtree(folder)
    runs = {}
    for name, engine in (("local", None), ("tls", DaskEngine(cluster.address, security))):
        summary = grade_class(submitted, cluster.hidden / name, solutions=ROOT / "solutions",
                              jobs=1, progress=False, outputs=False, stream=io.StringIO(),
                              engine=engine)
        runs[name] = summary
    local, tls = (cluster.hidden / n / "grades.csv" for n in ("local", "tls"))
    assert tls.read_bytes() == local.read_bytes()
    assert runs["tls"].workers == {"tls1": 5} and runs["tls"].counts["missing"] == 4
    with pytest.raises(SchedulerUnreachable):  # plain tcp to the TLS port: no handshake
        DaskEngine(cluster.address.replace("tls://", "tcp://"), connect_timeout=3).start(
            io.StringIO())
