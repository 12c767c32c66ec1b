"""catalogage: a data catalog for public organizations."""

__version__ = "0.1.0"
