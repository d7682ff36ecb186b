"""argon2id password hashing with parameters from the configuration."""
from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hasher() -> PasswordHasher:
    params = current_app.config["PASSWORD_HASH"]
    return _hasher(params["time_cost"], params["memory_cost"], params["parallelism"])


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


@lru_cache(maxsize=4)
def _dummy(time_cost: int, memory_cost: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_cost, parallelism).hash("not-a-real-password")


def burn_verify_time(password: str) -> None:
    """Spend the time of one verification, so an unknown email answers as slowly as a known one."""
    params = current_app.config["PASSWORD_HASH"]
    verify_password(_dummy(params["time_cost"], params["memory_cost"], params["parallelism"]), password)
