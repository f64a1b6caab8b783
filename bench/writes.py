"""Annotation writes over the API under 20 concurrent clients, against a trivial authenticated GET.

    .venv/bin/python bench/writes.py [--seconds 30] [--baseline-seconds 10] [--clients 20]
                                     [--workers 3] [--threads 1] [--conn-max-age N] [--think S]
                                     [--pg-url postgres://postgres@127.0.0.1:5432] [--keep]

Creates the database workbench_bench_writes (dropped at the end unless --keep), migrates it and
makes a project with the default schema, the seed articles (seeds/*.txt, through
`importing.import_paths`) and --clients annotators, each with an API token and their own
annotator layer (annotator i on seed article i mod 5). Then it starts the app as the Dockerfile
serves it, `gunicorn workbench.wsgi:application --workers 3` (sync workers; --threads > 1 makes
them gthread), on a free loopback port with DEBUG=0, and runs the clients (threads, each with
its own keep-alive `requests.Session` and token):

- **baseline**: GET /api/v1/projects/<slug>/ (the project detail), --baseline-seconds before
  and again after the writes;
- **writes**: --seconds of an annotator's mix on the client's own layer: create a mention
  (a word of the article text, a schema label; 60 %), change a mention's label (10 %), delete
  a mention (10 %), create an event with an actor and a recipient argument (20 %). Each write
  carries the layer version of the previous answer; a 409 is counted and the write retried
  with the version it names. An event's participants are first relabelled (PATCH, counted as
  updates) when their label doesn't fit its roles.

Clients run closed loop (the next request right after the answer) unless --think S gives each a
mean pause of S seconds (exponential) after every answer. --conn-max-age sets the server's
DB_CONN_MAX_AGE (deployed: unset, so a new PostgreSQL connection per request).

Prints requests/s, p50/p95/p99/max latency per kind of write and overall, errors and 409s, the
baseline's figures, the ratio write p95 / baseline p95, the load average before and after, and
where the CPU went during the writes (gunicorn workers, this process, the rest of the machine:
mostly PostgreSQL).

Target (DESIGN.md §7): annotation writes p95 < 50 ms with 20 concurrent clients on loopback.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import export  # noqa: E402  (bench/export.py: creating and dropping the database)
from importing import load  # noqa: E402  (bench/importing.py: the load average; it points export at its database)

DATABASE = export.DATABASE = "workbench_bench_writes"  # its helpers, on this bench's own database
SLUG = "bench-writes"
SECRET_KEY = "bench-writes-only-not-a-secret"
TICKS = os.sysconf("SC_CLK_TCK")
MAX_MENTIONS = 150  # past this a client deletes instead of creating, so a layer stays a realistic size


# --- Setting up -------------------------------------------------------------------------------


@dataclass
class Annotator:
    token: str
    layer_id: int
    version: int
    text: str


def set_up(clients: int) -> list[Annotator]:
    """The project, the seed articles, and `clients` annotators with a token and a layer each."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from annotations.models import Article, Membership
    from annotations.services.imports import import_paths
    from annotations.services.layers import layer_for_annotator
    from annotations.services.projects import membership_set, project_create

    call_command("migrate", verbosity=0)
    project = project_create(slug=SLUG, name="Writes bench")
    report = import_paths(project=project, paths=sorted((ROOT / "seeds").glob("*.txt")))
    assert not report.errors, report.summary()
    articles = list(Article.objects.filter(project=project).order_by("pk"))
    annotators = []
    for i in range(clients):
        user = get_user_model().objects.create_user(username=f"annotator{i:02}", password=None)
        membership_set(project=project, user=user, role=Membership.Role.ANNOTATOR)
        article = articles[i % len(articles)]
        layer = layer_for_annotator(article=article, annotator=user)
        token = Token.objects.create(user=user)
        annotators.append(Annotator(token=token.key, layer_id=layer.pk, version=layer.version, text=article.text))
    print(f"project {SLUG}: {len(articles)} seed articles, {clients} annotators with a token and a layer each")
    return annotators


# --- The server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """The app as deployed, in its own session (a Ctrl-C here reaches it only through stop())."""

    def __init__(self, *, database_url: str, workers: int, threads: int, conn_max_age: int | None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        if conn_max_age is not None:
            env["DB_CONN_MAX_AGE"] = str(conn_max_age)
        self.log = tempfile.NamedTemporaryFile(prefix="bench-writes-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
        command = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "workbench.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            self.wait_until_up()
        except BaseException:
            self.stop()
            raise
        kind = "sync" if threads == 1 else "gthread"
        print(f"gunicorn on 127.0.0.1:{self.port}: {workers} {kind} workers, {threads} thread(s) each, DEBUG=0")

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log.name}")
            try:
                if requests.get(f"{self.base}/api/v1/health/", timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within 60 s; see {self.log.name}")
            time.sleep(0.2)

    def cpu_seconds(self) -> float:
        """CPU seconds of the master and its workers so far."""
        total = 0.0
        for pid in [self.process.pid, *self.children()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += (int(fields[11]) + int(fields[12])) / TICKS
        return total

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
        log = Path(self.log.name)
        errors = [line for line in log.read_text(errors="replace").splitlines() if "Traceback" in line]
        if errors or self.process.returncode not in (0, -signal.SIGTERM):
            print(f"gunicorn exited with {self.process.returncode}, {len(errors)} traceback(s); log kept at {log}")
        else:
            log.unlink()


# --- The clients ------------------------------------------------------------------------------


@dataclass
class Tally:
    """Latencies (seconds) by kind of request, and what went wrong, of one client in one phase."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)


class Client(threading.Thread):
    """One annotator: a keep-alive session on its own layer, requests one after the other."""

    def __init__(self, base: str, annotator: Annotator, schema: dict, seed: int, think: float) -> None:
        super().__init__(daemon=True)
        self.think = think
        self.annotator = annotator
        self.project_url = f"{base}/api/v1/projects/{SLUG}/"
        self.layer_url = f"{self.project_url}layers/{annotator.layer_id}/"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {annotator.token}"
        self.rng = random.Random(seed)
        self.words = [m.span() for m in re.finditer(r"\w{3,}", annotator.text)]
        self.labels = [entity["code"] for entity in schema["entity_types"]]
        self.event_types = [
            (event["code"], {role["name"]: set(role["entity_types"]) for role in event["roles"]})
            for event in schema["event_types"]
            if {"actor", "recipient"} <= {role["name"] for role in event["roles"]}
        ]
        self.mentions: dict[int, tuple[str, int, int]] = {}  # id → (label, start, end)
        self.taken: set[tuple[str, int, int]] = set()
        self.arguments: set[int] = set()  # mentions that fill an event role: not relabelled or deleted
        self.phase = self.current = "idle"  # what it is told to do; what it last started doing
        self.tally = Tally()
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.current = phase = self.phase
            if phase == "baseline":
                self.request("project detail (GET)", "GET", self.project_url)
            elif phase == "writes":
                self.write()
            else:
                time.sleep(0.005)
                continue
            if self.think:
                self.current = "idle"  # a pause is not part of the phase's work
                self.stopping.wait(self.rng.expovariate(1 / self.think))  # an annotator reading between writes

    def request(self, kind: str, method: str, url: str, body: dict | None = None) -> requests.Response | None:
        tally = self.tally
        started = time.perf_counter()
        try:
            response = self.session.request(method, url, json=body, timeout=30)
        except requests.RequestException as exc:
            tally.errors.append(f"{kind}: {exc.__class__.__name__}")
            return None
        tally.latencies[kind].append(time.perf_counter() - started)
        if response.status_code == 409:
            tally.conflicts += 1
        elif response.status_code >= 400:
            tally.errors.append(f"{kind}: {response.status_code} {response.text[:200]}")
        return response

    def versioned(self, kind: str, method: str, url: str, body: dict) -> dict | None:
        """A write with the layer version; after a 409, once more with the version it names."""
        for _ in range(2):
            response = self.request(kind, method, url, {**body, "version": self.annotator.version})
            if response is None or (response.status_code >= 400 and response.status_code != 409):
                return None
            data = response.json()
            if response.status_code == 409:
                self.annotator.version = data["current_version"]
                continue
            self.annotator.version = data["layer_version"]
            return data
        return None

    def write(self) -> None:
        free = [pk for pk in self.mentions if pk not in self.arguments]
        roll = self.rng.random()
        if roll < 0.2 and len(free) >= 2:
            self.event_create()
        elif roll < 0.3 and free:
            self.mention_relabel(self.rng.choice(free))
        elif (roll < 0.4 or len(self.mentions) >= MAX_MENTIONS) and free:
            self.mention_delete(self.rng.choice(free))
        else:
            self.mention_create()

    def mention_create(self) -> None:
        while True:
            start, end = self.rng.choice(self.words)
            label = self.rng.choice(self.labels)
            if (label, start, end) not in self.taken:
                break
        body = {"label": label, "start": start, "end": end, "text": self.annotator.text[start:end]}
        data = self.versioned("mention create (POST)", "POST", f"{self.layer_url}mentions/", body)
        if data is not None:
            self.mentions[data["id"]] = (label, start, end)
            self.taken.add((label, start, end))

    def mention_relabel(self, pk: int, labels: list[str] | None = None) -> None:
        label, start, end = self.mentions[pk]
        choices = [other for other in labels or self.labels if (other, start, end) not in self.taken]
        if not choices:
            return
        new = self.rng.choice(choices)
        data = self.versioned("mention update (PATCH)", "PATCH", f"{self.layer_url}mentions/{pk}/", {"label": new})
        if data is not None:
            self.taken.discard((label, start, end))
            self.taken.add((new, start, end))
            self.mentions[pk] = (new, start, end)

    def mention_delete(self, pk: int) -> None:
        data = self.versioned("mention delete (DELETE)", "DELETE", f"{self.layer_url}mentions/{pk}/", {})
        if data is not None:
            self.taken.discard(self.mentions.pop(pk))

    def event_create(self) -> None:
        event_type, roles = self.rng.choice(self.event_types)
        # The event's participants: relabelled to a type the roles take, as an annotator would first.
        free = [pk for pk in self.mentions if pk not in self.arguments]
        actor, recipient = self.rng.sample(free, 2)
        for pk, role in ((actor, "actor"), (recipient, "recipient")):
            if self.mentions[pk][0] not in roles[role]:
                self.mention_relabel(pk, sorted(roles[role]))
                if self.mentions.get(pk, ("",))[0] not in roles[role]:
                    return
        start, end = self.rng.choice(self.words)
        body = {
            "event_type": event_type,
            "trigger_start": start,
            "trigger_end": end,
            "trigger_text": self.annotator.text[start:end],
            "arguments": [{"role": "actor", "mention": actor}, {"role": "recipient", "mention": recipient}],
        }
        if self.versioned("event create (POST)", "POST", f"{self.layer_url}events/", body) is not None:
            self.arguments.update((actor, recipient))


# --- Measuring --------------------------------------------------------------------------------


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


def run_phase(clients: list[Client], phase: str, seconds: float, server: Gunicorn) -> tuple[Tally, float, dict]:
    """All clients in `phase` for `seconds`: their merged tally, the elapsed time and CPU use."""
    for client in clients:
        client.tally = Tally()
    busy0, total0 = machine_ticks()
    server0, own0 = server.cpu_seconds(), time.process_time()
    started = time.perf_counter()
    for client in clients:
        client.phase = phase
    time.sleep(seconds)
    for client in clients:
        client.phase = "idle"
    while any(client.current != "idle" for client in clients):  # the requests under way finish in this phase
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    busy1, total1 = machine_ticks()
    cpu = {
        "machine": (busy1 - busy0) / TICKS,
        "cores": (total1 - total0) / TICKS,
        "server": server.cpu_seconds() - server0,
        "clients": time.process_time() - own0,
    }
    merged = Tally()
    for client in clients:
        for kind, values in client.tally.latencies.items():
            merged.latencies[kind].extend(values)
        merged.conflicts += client.tally.conflicts
        merged.errors.extend(client.tally.errors)
    return merged, elapsed, cpu


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def line(kind: str, values: list[float], elapsed: float) -> str:
    ms = [value * 1000 for value in values]
    figures = "  ".join(f"{percentile(ms, q):6.1f}" for q in (0.5, 0.95, 0.99))
    return f"  {kind:26} {len(ms):6,}  {len(ms) / elapsed:7.1f}/s  {figures}  {max(ms):7.1f}"


def report(title: str, tally: Tally, elapsed: float, cpu: dict) -> list[float]:
    """Print the phase's figures; returns every latency of it."""
    print(f"{title} ({elapsed:.1f} s)")
    print(f"  {'request':26} {'count':>6}  {'rate':>9}  {'p50':>6}  {'p95':>6}  {'p99':>6}  {'max':>7}  (ms)")
    everything: list[float] = []
    for kind in sorted(tally.latencies):
        everything.extend(tally.latencies[kind])
        print(line(kind, tally.latencies[kind], elapsed))
    if len(tally.latencies) > 1:
        print(line("all", everything, elapsed))
    count = max(len(everything), 1)
    print(
        f"  errors {len(tally.errors)}, 409 conflicts {tally.conflicts};"
        f" CPU {cpu['machine'] / cpu['cores']:.0%} of the machine: gunicorn {cpu['server'] * 1e3 / count:.1f} ms,"
        f" clients {cpu['clients'] * 1e3 / count:.1f} ms,"
        f" rest (PostgreSQL, others) {(cpu['machine'] - cpu['server'] - cpu['clients']) * 1e3 / count:.1f} ms"
        " per request"
    )
    for error in sorted(set(tally.errors))[:5]:
        print(f"    {error}")
    return everything


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30, help="length of the write phase")
    parser.add_argument("--baseline-seconds", type=float, default=10, help="each baseline phase (before, after)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (the Dockerfile's 3)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (the Dockerfile: 1, sync)")
    parser.add_argument(
        "--conn-max-age", type=int, default=None, help="DB_CONN_MAX_AGE for the server (deployed: unset, 0)"
    )
    parser.add_argument(
        "--think", type=float, default=0, help="mean pause (s, exponential) after each request; 0: none (closed loop)"
    )
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DATABASE} database")
    args = parser.parse_args()
    pg_url = args.pg_url.rstrip("/")
    database_url = f"{pg_url}/{DATABASE}"

    print(f"load average before: {load()}")
    export.create_database(pg_url)
    os.environ["DATABASE_URL"] = database_url
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", SECRET_KEY)
    os.environ["DJANGO_SETTINGS_MODULE"] = "workbench.settings"
    server: Gunicorn | None = None
    clients: list[Client] = []
    try:
        import django

        django.setup()
        from django.db import connections

        from annotations.models import Project

        annotators = set_up(args.clients)
        schema = Project.objects.get(slug=SLUG).label_schema
        connections.close_all()

        server = Gunicorn(
            database_url=database_url, workers=args.workers, threads=args.threads, conn_max_age=args.conn_max_age
        )
        clients = [
            Client(server.base, annotator, schema, seed=i, think=args.think) for i, annotator in enumerate(annotators)
        ]
        for client in clients:
            client.start()
        run_phase(clients, "baseline", 2, server)  # warm up: imports, connections, caches
        run_phase(clients, "writes", 2, server)
        before = run_phase(clients, "baseline", args.baseline_seconds, server)
        writes = run_phase(clients, "writes", args.seconds, server)
        after = run_phase(clients, "baseline", args.baseline_seconds, server)

        pause = f"a mean pause of {args.think} s after each request" if args.think else "no pause between requests"
        print(f"{args.clients} clients, each on its own layer, {pause}; latencies in ms, from the client")
        base_before = report("baseline before", *before)
        written = report("writes", *writes)
        base_after = report("baseline after", *after)
        baseline = base_before + base_after
        p95_writes, p95_baseline = percentile(written, 0.95), percentile(baseline, 0.95)
        print(
            f"write p95 {p95_writes * 1000:.1f} ms, baseline GET p95 {p95_baseline * 1000:.1f} ms"
            f" (before and after pooled): ratio {p95_writes / p95_baseline:.2f};"
            f" target p95 < 50 ms {'met' if p95_writes < 0.05 else 'NOT met'}"
        )
    finally:
        for client in clients:
            client.stopping.set()
        for client in clients:
            client.join(timeout=35)
        if server is not None:
            server.stop()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            export.drop_database(pg_url)
        print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
