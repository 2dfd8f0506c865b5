"""The signing key: configured, or generated once beside the database and reused."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from floodpost.errors import ConfigError
from floodpost.settings import PLACEHOLDER_SECRETS, Settings

KEY_FILE = "floodpost.key"
MIN_KEY_CHARS = 16


def resolve_secret(settings: Settings) -> str:
    """The configured key if it is a real one; otherwise the generated key file's content.

    A configured key that is empty or a known placeholder is refused rather than used: a guessable
    key would let anyone forge a commander's session.
    """
    configured = settings.secret_key
    if configured is not None:
        if configured.strip().lower() in PLACEHOLDER_SECRETS or len(configured) < MIN_KEY_CHARS:
            raise ConfigError(
                "FLOODPOST_SECRET_KEY is empty, a placeholder or shorter than "
                f"{MIN_KEY_CHARS} characters; unset it to have one generated",
                field="secret_key",
            )
        return configured
    return _generated_key(settings.store_path_dir() / KEY_FILE)


def _generated_key(path: Path) -> str:
    if path.exists():
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= MIN_KEY_CHARS:
            return key
        raise ConfigError(f"{path}: the key file is damaged; remove it to generate a new one")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting together must not overwrite each other's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _generated_key(path)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return key
