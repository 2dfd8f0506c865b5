"""Password hashing with argon2id (argon2-cffi).

Parameters follow the OWASP minimum for argon2id (19 MiB, 2 passes, 1 lane): a sign-in stays well
under 100 ms on the command-post laptop while an offline guess still costs real memory. Hashes
carry their parameters, so raising them later only needs `needs_rehash` on the next sign-in.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# Verified against when the account does not exist, so "no such user" and "wrong password" take
# the same time and an attacker cannot list accounts by timing the sign-in.
_DUMMY_HASH = _hasher.hash("floodpost-no-such-account")


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string with salt and parameters) of `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; a missing or damaged hash never matches."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
