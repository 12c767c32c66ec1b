"""Operational endpoints: health and version."""
