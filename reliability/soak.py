"""Mixed read/write load for a while on 100,000 datasets: errors, and worker memory growth."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.load import load
from reliability.instance import Instance, dataset_body

SEARCHES = ["eau", "transport", "budget", "qualité de l'air", "forêt", "santé", "école", "bus"]


@dataclass
class SoakResult:
    datasets: int
    load_seconds: float
    seconds: float
    requests: int
    errors: int
    error_statuses: dict[int, int]
    rss_start_mb: float
    rss_end_mb: float
    load_average: str = ""
    samples: list[float] = field(default_factory=list)

    @property
    def rss_growth_percent(self) -> float:
        return 100 * (self.rss_end_mb - self.rss_start_mb) / self.rss_start_mb


def workers_rss_mb(instance: Instance) -> float:
    """Resident memory of the uvicorn workers together (VmRSS), in MB."""
    total = 0
    for pid in instance.worker_pids():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def bulk_load(instance: Instance, count: int) -> float:
    """COPY `count` generated datasets in with the benchmark's loader; seconds taken."""
    return load(instance.cluster.url(), count).seconds


def soak(
    instance: Instance, seconds: float, *, role: str, clients: int = 8, datasets: int = 0
) -> SoakResult:
    """`clients` threads, each: 3 searches or listings for 1 write (create, then edit its
    own datasets with If-Match). Memory is measured after a warm-up (a tenth of the run,
    at least 10 s: caches fill) and at the end."""
    errors: dict[int, int] = {}
    requests = 0
    lock = threading.Lock()
    stop = threading.Event()

    def client_loop(number: int) -> None:
        nonlocal requests
        chance = random.Random(number)
        mine: list[tuple[str, str]] = []
        with httpx.Client(
            base_url=instance.url, headers=instance.headers(role), timeout=30
        ) as client:
            for step in range(10_000_000):  # bounded; the clock ends it
                if stop.is_set():
                    return
                kind = step % 4
                try:
                    if kind == 0:
                        answer = client.get(
                            "/search/datasets", params={"q": chance.choice(SEARCHES)}
                        )
                    elif kind == 1:
                        answer = client.get(
                            "/datasets/", params={"page": chance.randint(1, 50), "page_size": 20}
                        )
                    elif kind == 2:
                        answer = client.get(
                            "/search/autocomplete", params={"q": chance.choice(SEARCHES)[:3]}
                        )
                    elif mine and chance.random() < 0.5:
                        dataset_id, version = mine.pop(chance.randrange(len(mine)))
                        answer = client.patch(
                            f"/datasets/{dataset_id}",
                            json={"description": f"Révision {step} du client {number}."},
                            headers={"If-Match": version},
                        )
                        if answer.status_code == 200:
                            mine.append((dataset_id, answer.headers["ETag"]))
                    else:
                        answer = client.post(
                            "/datasets/", json=dataset_body(title=f"Soak {number} {step}")
                        )
                        if answer.status_code == 201:
                            mine.append((answer.json()["id"], answer.headers["ETag"]))
                    status = answer.status_code
                except httpx.HTTPError:
                    status = 0
                with lock:
                    requests += 1
                    if status >= 400 or status == 0:
                        errors[status] = errors.get(status, 0) + 1

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(max(10.0, seconds / 10))
    rss_start = workers_rss_mb(instance)
    samples = [rss_start]
    while time.monotonic() - started < seconds:
        time.sleep(min(10.0, max(0.0, seconds - (time.monotonic() - started))))
        samples.append(workers_rss_mb(instance))
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return SoakResult(
        datasets=datasets,
        load_seconds=0.0,
        seconds=elapsed,
        requests=requests,
        errors=sum(errors.values()),
        error_statuses=errors,
        rss_start_mb=rss_start,
        rss_end_mb=samples[-1],
        load_average=Path("/proc/loadavg").read_text().split(" ")[0],
        samples=samples,
    )
