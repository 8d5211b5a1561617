"""Grading a class on a Dask cluster: ``python -m autograder grade A --scheduler ADDRESS``.

The command (the *client*) keeps the course folder, the gradebook and the solutions; it
sends each worker the grading function's inputs only: the job (one submission's bytes,
content hashes, limits) and, once per worker, the released notebook and the reference
outputs (one task, whose result the jobs depend on). A worker (and the scheduler, which
unpickles the tasks) needs this package and bubblewrap, nothing else: it runs
:func:`autograder.grading.grade.grade` (student code in the sandbox, as on one machine) and sends
the record back. Records stream in as they finish (``as_completed``) and this process
alone writes them, so the results are those of local grading, record for record.

Exactly once: a job is named on the cluster by its key (student, submission content,
release, reference, grader version, limits), and the client records it when it finishes,
under the submission's lock, the record file last. A worker that dies mid-job makes Dask
run the job on another worker; a job that has killed ``distributed.scheduler.
allowed-failures`` + 1 workers is tried twice more on its own, and if it kills those too
it ends as ``grader error`` for that student alone. A run
that is killed is resumed by running it again: up-to-date records are skipped.

Security: a Dask scheduler runs whatever code a connected client sends. Off loopback the
command requires TLS with certificates made by ``python -m autograder certs DIR``
(mutual: the scheduler, the workers and the client each show a certificate signed by the
course's own CA) and refuses a plain ``tcp://`` address that is not on 127.0.0.0/8
unless ``--insecure`` is given.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import threading
import time
import warnings
from pathlib import Path

from autograder.grading.grade import grade
from autograder.grading.job import Job, Materials, grader_version
from autograder.grading.records import Record
from autograder.sandbox import WEAK_ISOLATION, Limits, Sandbox, SandboxError, UidPool

CERT_ROLES = ("scheduler", "worker", "client")
_LOST = object()


class _Killed:
    def __init__(self, workers: int):
        self.workers = workers


class ClusterError(Exception):
    """The cluster cannot be used as asked (the message says how to fix it)."""


# ----------------------------------------------------------------------------- address


def connection(address: str, tls_dir=None, insecure: bool = False):
    """``(address, Security or None)`` for ``--scheduler``; refuses what is unsafe."""
    scheme, _, rest = address.partition("://")
    if not rest:
        scheme, rest = "tcp", address
    host = _host(rest)
    if scheme == "tls":
        if tls_dir is None:
            raise ClusterError(
                f"{address} is a TLS address: pass --tls DIR, the folder that "
                "`python -m autograder certs DIR` made (ca.pem, client.pem, client.key)"
            )
        return f"tls://{rest}", client_security(tls_dir)
    if scheme != "tcp":
        raise ClusterError(f"unsupported scheduler address {address!r}: use tls://HOST:PORT")
    if tls_dir is not None:
        raise ClusterError(f"--tls was given but {address} is not a tls:// address")
    if not insecure and not _is_loopback(host):
        raise ClusterError(
            f"refusing to send jobs over plain TCP to {host}, which is not this machine: "
            "anyone who can reach a Dask scheduler can run code on it and read what it is "
            "sent. Use TLS (make certificates with `python -m autograder certs DIR`, start "
            "the scheduler and the workers with them, then pass --scheduler tls://HOST:PORT "
            "--tls DIR), or pass --insecure on a network you trust completely."
        )
    return f"tcp://{rest}", None


def _host(host_port: str) -> str:
    if host_port.startswith("["):  # [::1]:8786
        return host_port[1:].partition("]")[0]
    return host_port.rpartition(":")[0] if ":" in host_port else host_port


def _is_loopback(host: str) -> bool:
    """True only if every address ``host`` resolves to is a loopback address."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def client_security(tls_dir):
    from distributed.security import Security

    folder = Path(tls_dir)
    files = {"ca": folder / "ca.pem", "cert": folder / "client.pem", "key": folder / "client.key"}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise ClusterError(
            f"--tls {folder}: missing {', '.join(missing)} (make them with "
            f"`python -m autograder certs {folder}`)"
        )
    return Security(
        tls_ca_file=str(files["ca"]),
        tls_client_cert=str(files["cert"]),
        tls_client_key=str(files["key"]),
        require_encryption=True,
    )


# ----------------------------------------------------------------------------- certificates


def make_certificates(folder, hosts=(), days: int = 365) -> list[Path]:
    """A course CA and a certificate + key for the scheduler, the workers and the client,
    signed by it (valid for ``hosts``, ``localhost`` and 127.0.0.1). The keys are
    readable by their owner only; ``ca.key`` signs new certificates and should stay with
    the instructor."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)

    def name(common: str):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def write_key(path: Path, key) -> None:
        data = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)

    def build(subject, issuer, public, signer, ca: bool, extra=()):
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        for extension in extra:
            builder = builder.add_extension(extension, critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("upsampling course grading CA")
    ca_cert = build(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True)
    written = [folder / "ca.pem", folder / "ca.key"]
    written[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    write_key(written[1], ca_key)
    sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    usage = x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    for role in CERT_ROLES:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = build(
            name(f"grading {role}"),
            ca_name,
            key.public_key(),
            ca_key,
            ca=False,
            extra=[x509.SubjectAlternativeName(sans), usage],
        )
        (folder / f"{role}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        write_key(folder / f"{role}.key", key)
        written += [folder / f"{role}.pem", folder / f"{role}.key"]
    return written


# ----------------------------------------------------------------------------- worker side

_sandboxes: dict = {}
_sandboxes_lock = threading.Lock()
_slot = threading.local()


def _worker_sandbox(mode: str, limits: Limits) -> Sandbox:
    key = (mode, limits)
    with _sandboxes_lock:
        if key not in _sandboxes:
            with warnings.catch_warnings():  # the client warned already, once
                warnings.simplefilter("ignore")
                _sandboxes[key] = Sandbox(mode, limits)
        return _sandboxes[key]


def _worker_uid(sandbox: Sandbox):
    """This worker thread's sandbox uid (as root; held for the thread's lifetime)."""
    if not (sandbox.root and sandbox.mode == "bwrap"):
        return None
    if getattr(_slot, "pool", None) is None:
        _slot.pool = UidPool(1, enabled=True)
    return _slot.pool.free[0]


def _materials(materials: Materials) -> Materials:
    return materials


def run_job(job: Job, materials: Materials) -> Record:
    """The task a worker runs: grade one submission, in the sandbox, on this machine."""
    sandbox = _worker_sandbox(job.sandbox, job.limits)
    return grade(job, materials, sandbox, _worker_uid(sandbox))


def worker_facts() -> dict:
    """What the client checks on every worker before sending jobs."""
    bwrap = shutil.which("bwrap")
    works = False
    if bwrap:
        try:
            works = _worker_sandbox("bwrap", Limits()).mode == "bwrap"
        except SandboxError:
            works = False
    return {"grader_version": grader_version(), "bwrap": works, "host": socket.gethostname()}


# ----------------------------------------------------------------------------- client side


class ClusterRunner:
    """Runs jobs on the Dask cluster at ``address`` (see the module docstring)."""

    def __init__(
        self,
        address: str,
        security,
        materials: Materials,
        sandbox_mode: str,
        connect_timeout: float = 30.0,
    ):
        from distributed import Client, as_completed

        try:
            self.client = Client(
                address, security=security, timeout=connect_timeout, set_as_default=False
            )
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"could not connect to the Dask scheduler at {address} ({exc}): is "
                "`dask scheduler` running there, and are the certificates the ones it uses?"
            ) from exc
        try:
            self.client.wait_for_workers(1, timeout=connect_timeout)
            self.mode = self._check_workers(sandbox_mode)
            # A task, not scattered data: Dask copies its result to the workers that need
            # it and, if every copy dies with its workers, makes it again.
            self.materials = self.client.submit(
                _materials,
                materials,
                key=f"materials-{materials.reference_sha256[:16]}-{materials.released_sha256[:16]}",
                pure=False,
            )
        except BaseException as exc:
            self.client.close()
            if isinstance(exc, (TimeoutError, OSError)):
                raise ClusterError(
                    f"no Dask worker joined {address} within {connect_timeout:g} s"
                ) from exc
            raise
        threads = sum(self.client.nthreads().values())
        self.capacity = max(8, 4 * threads)  # jobs in flight: every thread kept busy
        self.description = (
            f"Dask cluster {address}: {len(self.client.nthreads())} worker(s), {threads} "
            f"thread(s), {'bubblewrap sandbox' if self.mode == 'bwrap' else 'NO SANDBOX'}"
        )
        self.pending = as_completed([], with_results=False, loop=self.client.loop)
        self.in_flight: dict = {}  # future key -> (job, future, times lost, times killed)

    def _check_workers(self, sandbox_mode: str) -> str:
        facts = self.client.run(worker_facts)
        ours = grader_version()
        other = {w: f["grader_version"] for w, f in facts.items() if f["grader_version"] != ours}
        if other:
            raise ClusterError(
                f"grader version {ours} here, but {other} on the worker(s): install the same "
                "version of the course package on every worker (see README, cluster grading)"
            )
        no_bwrap = sorted(f["host"] for f in facts.values() if not f["bwrap"])
        if sandbox_mode == "none":
            warnings.warn(WEAK_ISOLATION, stacklevel=3)
            return "none"
        if no_bwrap:
            raise ClusterError(
                f"bubblewrap does not work on worker host(s) {', '.join(no_bwrap)}: install it "
                "there (Debian/Ubuntu: apt-get install bubblewrap); student code never runs "
                "unsandboxed on a cluster unless you pass --sandbox none"
            )
        return "bwrap"

    # A result lost between its worker and this process (the worker died after the job
    # finished, before the record was fetched) is asked for again, this many times.
    RESUBMITS = 3
    # A job that Dask gave up on (KilledWorker: the workers running it died, allowed-
    # failures + 1 times) is tried twice more on its own: a job merely queued on a worker
    # that another job killed is counted as a suspect too, and passes on a later try.
    KILLED_RESUBMITS = 2

    def submit(self, job: Job, lost: int = 0, killed: int = 0) -> None:
        future = self.client.submit(run_job, job, self.materials, key=f"grade-{job.key}", retries=0)
        self.in_flight[future.key] = (job, future, lost, killed)
        self.pending.add(future)

    def finished(self, timeout: float) -> list:
        deadline = time.monotonic() + timeout
        while not self.pending.has_ready() and time.monotonic() < deadline:
            if self.pending.is_empty():
                return []
            time.sleep(0.01)
        out = []
        for future in self.pending.next_batch(block=False) if self.pending.has_ready() else []:
            job, _, lost, killed = self.in_flight.pop(future.key)
            outcome = self._outcome(job, future)
            future.release()
            if outcome is _LOST and lost < self.RESUBMITS:
                self.submit(job, lost + 1, killed)
            elif outcome is _LOST:
                out.append(
                    (
                        job,
                        RuntimeError(
                            f"its record was lost {lost + 1} times "
                            "between a worker and this process"
                        ),
                    )
                )
            elif isinstance(outcome, _Killed) and killed < self.KILLED_RESUBMITS:
                self.submit(job, lost, killed + 1)
            elif isinstance(outcome, _Killed):
                workers = outcome.workers * (killed + 1)
                out.append(
                    (
                        job,
                        RuntimeError(
                            f"grading this submission killed {workers} Dask workers ({killed + 1} "
                            "tries); the rest of the class went on"
                        ),
                    )
                )
            else:
                out.append((job, outcome))
        return out

    @staticmethod
    def _outcome(job: Job, future):
        """The record, an exception (the grader's failure), _LOST (ask again) or
        _Killed (the job's workers died)."""
        from distributed import KilledWorker

        if future.status == "error":
            exc = future.exception()
            if isinstance(exc, KilledWorker):  # the scheduler's allowed-failures, plus one
                return _Killed(exc.allowed_failures + 1)
            return exc
        if future.status != "finished":
            return _LOST
        try:
            record = future.result(timeout=60)
        except Exception:  # noqa: BLE001 - cancelled, lost with its worker, unreachable
            return _LOST
        if not isinstance(record, Record) or record.fingerprint != job.key:
            return RuntimeError("a worker sent back something other than this job's record")
        return record

    def close(self) -> None:
        if self.in_flight:
            self.client.cancel([entry[1] for entry in self.in_flight.values()])
        self.client.close()
