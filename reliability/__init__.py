"""Reliability and security harness: `python -m reliability.run` (what `make reliability` runs).

Each check drives a real `catalogage serve` (2 workers, embedded PostgreSQL) over HTTP
and returns measured figures; `run.py` prints them as one table. See docs/reliability.md.
"""
