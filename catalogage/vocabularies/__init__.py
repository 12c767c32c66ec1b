"""Controlled vocabularies: keywords (tags), formats, licenses, update frequencies."""
