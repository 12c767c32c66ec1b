"""Schemathesis against `/openapi.json` of the running instance, anonymous and as admin."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from catalogage.config import PROJECT_DIR
from reliability.instance import Instance

CHECKS = (
    "not_a_server_error,response_schema_conformance,"
    "content_type_conformance,status_code_conformance"
)


@dataclass
class FuzzResult:
    role: str
    cases: int
    failures: int
    log: Path


def _count(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    return int(match.group(1)) if match else 0


def fuzz(instance: Instance, role: str, max_examples: int = 30) -> FuzzResult:
    """One schemathesis run; `/auth/token` is left out because failed logins throttle the
    whole client address (login throttling is tested in tests/test_accounts.py)."""
    command = [
        str(PROJECT_DIR / ".venv/bin/st"),
        "run",
        f"{instance.url}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(max_examples),
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "2",
        "--exclude-path-regex",
        "^/auth/token$",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    for name, value in instance.headers(role).items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run(  # noqa: S603 - fixed program
        command, capture_output=True, text=True, check=False, cwd=instance.root
    )
    output = result.stdout + result.stderr
    log = instance.root / f"schemathesis-{role}.log"
    log.write_text(output)
    cases = _count(r"(\d+) generated", output)
    failures = _count(r"(\d+) unique failures", output) + _count(r"(\d+) errors?\b", output)
    if result.returncode != 0 and failures == 0:
        failures = 1  # a crash of the run itself counts as a failure: read the log
    return FuzzResult(role, cases, failures, log)
