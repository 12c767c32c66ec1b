"""Process faults on a local `catalogage serve` (2 workers): a worker killed with SIGKILL,
the embedded PostgreSQL restarted, PostgreSQL frozen with SIGSTOP. Writes go on during each
fault; every write acknowledged with a 2xx must be readable afterwards."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from reliability.instance import Instance, dataset_body


@dataclass
class WriteLoad:
    """Writers creating datasets in a bounded loop until stopped; remembers acknowledged ids."""

    instance: Instance
    writers: int = 4
    acknowledged: list[str] = field(default_factory=list)
    #: Answers other than 201, by status (0: no answer at all).
    failures: dict[int, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _write(self) -> None:
        with httpx.Client(
            base_url=self.instance.url, headers=self.instance.headers("editor_a"), timeout=30
        ) as client:
            for number in range(100_000):  # bounded: stop() ends it long before
                if self._stop.is_set():
                    return
                body = dataset_body(title=f"Écriture sous panne {number} {threading.get_ident()}")
                try:
                    answer = client.post("/datasets/", json=body)
                except httpx.HTTPError:
                    answer = None
                if answer is not None and answer.status_code == 201:
                    self.acknowledged.append(answer.json()["id"])
                    continue
                status = 0 if answer is None else answer.status_code
                with self._lock:
                    self.failures[status] = self.failures.get(status, 0) + 1
                time.sleep(0.05)

    def __enter__(self) -> WriteLoad:
        self._threads = [threading.Thread(target=self._write) for _ in range(self.writers)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def missing(self) -> int:
        """Acknowledged writes that cannot be read back."""
        with httpx.Client(
            base_url=self.instance.url, headers=self.instance.headers("admin"), timeout=30
        ) as client:
            return sum(
                1 for i in self.acknowledged if client.get(f"/datasets/{i}").status_code != 200
            )


@dataclass
class FaultResult:
    name: str
    recovery_seconds: float
    acknowledged: int
    #: Failed writes during the fault, by status (0: no answer).
    failed_during_fault: dict[int, int]
    lost: int
    detail: str = ""


def kill_worker(instance: Instance) -> FaultResult:
    """SIGKILL one worker under write load; recovery = until uvicorn has replaced it and
    the new worker answers (both workers serving again)."""
    before = instance.worker_pids()
    with WriteLoad(instance) as load:
        time.sleep(2)
        victim = before[0]
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        recovered = float("nan")
        while time.monotonic() - killed_at < 60:
            now = instance.worker_pids()
            if len(now) == len(before) and victim not in now:
                instance.wait_healthy(30)
                recovered = time.monotonic() - killed_at
                break
            time.sleep(0.02)
        time.sleep(2)
    return FaultResult(
        "kill -9 worker", recovered, len(load.acknowledged), load.failures, load.missing()
    )


def restart_postgres(instance: Instance) -> FaultResult:
    """Stop and start the embedded cluster (fast shutdown) under write load: /health must go
    503 while it is down and 200 again after, without restarting the app."""
    statuses: list[int] = []
    with WriteLoad(instance) as load:
        time.sleep(2)
        started = time.monotonic()
        instance.cluster.stop()
        statuses.append(httpx.get(f"{instance.url}/health", timeout=10).status_code)
        instance.cluster.start()
        restarted = time.monotonic()
        recovery = instance.wait_healthy(60)
        down_seconds = restarted - started
        time.sleep(2)
    statuses.append(httpx.get(f"{instance.url}/health", timeout=10).status_code)
    return FaultResult(
        "PostgreSQL restart",
        recovery,
        len(load.acknowledged),
        load.failures,
        load.missing(),
        f"/health {statuses[0]} while down ({down_seconds:.1f} s), then {statuses[1]}",
    )


@dataclass
class HangResult:
    requests: int
    statuses: dict[int, int]
    slowest_seconds: float
    health_recovery_seconds: float


def hang_postgres(instance: Instance, requests: int = 40, freeze_seconds: float = 20) -> HangResult:
    """SIGSTOP every PostgreSQL process for at most `freeze_seconds`, send `requests`
    concurrent reads: each must answer 503 quickly, none may hang until the thaw."""
    pids = instance.postgres_pids()
    durations: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def read(number: int) -> None:
        started = time.monotonic()
        try:
            status = httpx.get(
                f"{instance.url}/datasets/",
                params={"page": 1 + number % 3},
                headers=instance.headers("editor_a"),
                timeout=freeze_seconds + 10,
            ).status_code
        except httpx.HTTPError:
            status = 0
        with lock:
            durations.append(time.monotonic() - started)
            statuses[status] = statuses.get(status, 0) + 1

    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(max_workers=requests) as pool:
            list(pool.map(read, range(requests)))
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    recovery = instance.wait_healthy(60)
    return HangResult(requests, statuses, max(durations), recovery)
