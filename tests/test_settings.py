"""Settings come from FLOODPOST_* variables; the signing key is never a default."""

from __future__ import annotations

import stat

import pytest

from floodpost.auth.secret import KEY_FILE, resolve_secret
from floodpost.errors import ConfigError
from floodpost.settings import Settings


def test_env_prefix_and_units(monkeypatch):
    monkeypatch.setenv("FLOODPOST_PORT", "9123")
    monkeypatch.setenv("FLOODPOST_SILENT_ZONE_HOURS", "2.5")
    s = Settings()
    assert s.port == 9123 and s.silent_zone_hours == 2.5


def test_every_setting_has_a_default_and_a_description():
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"
        assert not field.is_required(), f"{name} has no default"


@pytest.mark.parametrize("bad", ["", "changeme", "secret", "short"])
def test_placeholder_or_short_secret_refused(tmp_path, bad):
    s = Settings(db_url=f"sqlite:///{tmp_path}/x.db", secret_key=bad)
    with pytest.raises(ConfigError):
        resolve_secret(s)


def test_generated_key_is_private_and_reused(tmp_path):
    s = Settings(db_url=f"sqlite:///{tmp_path}/x.db")
    first = resolve_secret(s)
    key_file = tmp_path / KEY_FILE
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert resolve_secret(s) == first
    assert len(first) >= 32


def test_two_stores_get_different_keys(tmp_path):
    a = resolve_secret(Settings(db_url=f"sqlite:///{tmp_path}/a/x.db"))
    b = resolve_secret(Settings(db_url=f"sqlite:///{tmp_path}/b/x.db"))
    assert a != b
