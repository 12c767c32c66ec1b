"""`python -m reliability.run`: every check against one throwaway instance, one table.

Order matters: the authenticated fuzzer (an admin of its own) revokes tokens and edits
users at random, so it runs after the checks that rely on the accounts; the soak runs last,
with a fresh account, on 100,000 bulk-loaded datasets.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from catalogage.config import Settings
from reliability import concurrency, faults, fuzz, instance, security, soak
from reliability.instance import ORG_A


@dataclass
class Row:
    check: str
    figure: str
    target: str
    passed: bool


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--soak-seconds", type=float, default=60)
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--max-examples", type=int, default=30)
    parser.add_argument("--only", default="", help="comma-separated: security,concurrency,...")
    args = parser.parse_args(argv)
    only = set(filter(None, args.only.split(",")))
    console = Console(stderr=True)
    rows: list[Row] = []

    def step(name: str, work: Callable[[], None]) -> None:
        if only and name not in only:
            return
        started = time.monotonic()
        console.print(f"[bold]{name}[/bold] … (load average {load_average()})")
        work()
        console.print(f"  {name}: {time.monotonic() - started:.0f} s")

    started = time.monotonic()
    console.print("starting catalogage serve (2 workers, embedded PostgreSQL, demo data)")
    target = instance.start()
    try:

        def run_security() -> None:
            found = security.secrets_scan()
            rows.append(
                Row("secrets scan (git ls-files)", f"{len(found)} finding(s)", "0", not found)
            )
            for finding in found:
                console.print(f"  secret: {finding}")
            headers = security.headers(target)
            rows.append(
                Row(
                    "security headers (app)",
                    f"missing: {', '.join(headers.app_missing) or 'none'}; HSTS behind TLS: "
                    f"{headers.hsts_behind_tls}, over HTTP: {headers.hsts_without_tls}",
                    "CSP frame-ancestors, nosniff; HSTS only behind TLS",
                    not headers.app_missing
                    and headers.hsts_behind_tls
                    and not headers.hsts_without_tls,
                )
            )
            rows.append(
                Row(
                    "security headers (nginx template)",
                    f"missing: {', '.join(headers.nginx_missing) or 'none'}",
                    "nosniff, HSTS with TLS",
                    not headers.nginx_missing,
                )
            )
            sql = security.sql_injection(target)
            rows.append(
                Row(
                    "SQL injection, every GET query parameter",
                    f"{sql.requests} requests: {sql.server_errors} 5xx, {sql.slow} slow, "
                    f"{len(sql.changed)} widened",
                    "0 / 0 / 0",
                    not (sql.server_errors or sql.slow or sql.changed),
                )
            )
            for changed in sql.changed:
                console.print(f"  widened: {changed}")
            xss = security.xss(target)
            parts = {
                "JSON verbatim": xss.json_verbatim,
                "highlights escaped": xss.highlight_escaped,
                "CSV neutralised": xss.csv_neutralised,
                "XLSX neutralised": xss.xlsx_neutralised,
            }
            html = "not present" if xss.html_escaped is None else str(xss.html_escaped)
            rows.append(
                Row(
                    f"XSS/formula payloads in {xss.fields} text fields",
                    ", ".join(f"{k}: {v}" for k, v in parts.items()) + f", HTML pages: {html}",
                    "all true",
                    all(parts.values()) and xss.html_escaped is not False,
                )
            )
            for line in xss.detail:
                console.print(f"  xss: {line}")
            upload = security.upload_limits(target)
            rows.append(
                Row(
                    "import upload limits",
                    ", ".join(f"{k} → {v}" for k, v in upload.statuses.items()),
                    ", ".join(f"{k} → {v}" for k, v in upload.expected.items()),
                    upload.ok,
                )
            )

        def run_concurrency() -> None:
            edit = concurrency.edit_race(target)
            rows.append(
                Row(
                    f"{edit.clients} clients, If-Match edits of the same records",
                    f"{edit.writes_acknowledged} writes, {edit.precondition_failed} × 412, "
                    f"{edit.lost_updates} lost, history consistent: {edit.history_consistent}, "
                    f"other: {edit.other_statuses or 'none'}",
                    "0 lost, history = writes",
                    edit.lost_updates == 0 and edit.history_consistent,
                )
            )
            imports = concurrency.import_race(target)
            rows.append(
                Row(
                    f"{imports.imports} simultaneous imports into one catalog",
                    f"{imports.applied} applied, {imports.refused_409} × 409, "
                    f"{imports.interleaved} interleaved/partial, other: "
                    f"{imports.other_statuses or 'none'}",
                    "200 or 409 only, 0 interleaved",
                    imports.applied >= 1 and not imports.other_statuses and not imports.interleaved,
                )
            )

        def run_faults() -> None:
            for result in (faults.kill_worker(target), faults.restart_postgres(target)):
                rows.append(
                    Row(
                        f"{result.name} under write load",
                        f"recovered in {result.recovery_seconds:.2f} s; {result.acknowledged} "
                        f"acknowledged writes, {result.lost} lost; failed requests by status "
                        f"(0: connection dropped) {result.failed_during_fault}"
                        f"{'; ' + result.detail if result.detail else ''}"
                        f" (load {load_average()})",
                        "0 acknowledged writes lost; failures are 503 or dropped, never 500",
                        result.lost == 0
                        and result.recovery_seconds == result.recovery_seconds
                        and set(result.failed_during_fault) <= {0, 503},
                    )
                )
            hang = faults.hang_postgres(target)
            # The bound a frozen database may cost a request: the request deadline (which
            # terminates its connections and answers 503), and 2 s of slack for a loaded
            # host; no higher than the statement timeout + pool timeout + 2 s of before.
            defaults = Settings(_env_file=None)
            bound = defaults.request_deadline_seconds + 2
            rows.append(
                Row(
                    f"PostgreSQL frozen (SIGSTOP), {hang.requests} concurrent reads",
                    f"statuses {hang.statuses}, slowest {hang.slowest_seconds:.1f} s, "
                    f"/health 200 {hang.health_recovery_seconds:.1f} s after SIGCONT",
                    f"all 503, each ≤ {bound:.0f} s (request deadline + 2 s)",
                    set(hang.statuses) == {503} and hang.slowest_seconds <= bound,
                )
            )

        def run_fuzz() -> None:
            for role in ("anonymous", "fuzzer"):
                result = fuzz.fuzz(target, role, args.max_examples)
                rows.append(
                    Row(
                        f"schemathesis, {'admin' if role == 'fuzzer' else role}",
                        f"{result.cases} cases, {result.failures} failures",
                        "≥ 1,000 cases, 0 failures",
                        result.cases >= 1000 and result.failures == 0,
                    )
                )
                if result.failures:
                    console.print(f"  schemathesis log: {result.log}")

        def run_soak() -> None:
            loaded = soak.bulk_load(target, args.datasets) if args.datasets else 0.0
            target.add_account("soak", ORG_A)
            result = soak.soak(target, args.soak_seconds, role="soak", datasets=args.datasets)
            rows.append(
                Row(
                    f"soak {result.seconds:.0f} s, {args.datasets:,} datasets (+ demo)",
                    f"{result.requests} requests, {result.errors} errors "
                    f"{result.error_statuses or ''}; workers RSS {result.rss_start_mb:.0f} → "
                    f"{result.rss_end_mb:.0f} MB ({result.rss_growth_percent:+.1f} %); "
                    f"load {result.load_average}; bulk load {loaded:.0f} s",
                    "0 errors, RSS growth < 10 %",
                    result.errors == 0 and result.rss_growth_percent < 10,
                )
            )

        step("security", run_security)
        step("concurrency", run_concurrency)
        step("faults", run_faults)
        step("fuzz", run_fuzz)
        step("soak", run_soak)
    finally:
        target.stop()

    table = Table(
        title=f"make reliability ({time.monotonic() - started:.0f} s, "
        f"load average at end {load_average()})"
    )
    for column in ("check", "figure", "target", "result"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row.check, row.figure, row.target, "pass" if row.passed else "FAIL")
    Console(width=200).print(table)
    return 0 if rows and all(row.passed for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
