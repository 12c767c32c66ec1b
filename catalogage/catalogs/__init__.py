"""Catalogs: one per organization, with the extra fields it adds to the common schema."""
