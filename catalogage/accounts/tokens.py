"""API tokens: `ctg_` followed by 43 URL-safe characters (256 random bits)."""

import hashlib
import secrets

PREFIX = "ctg_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def display_prefix(token: str) -> str:
    return token[: len(PREFIX) + 6]
