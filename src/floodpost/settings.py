"""The one settings class (env prefix FLOODPOST_). Built by the CLI or tests, never at import."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from floodpost.paths import default_geodata

# Values people paste from examples; a key equal to one of these is refused (CONTRACT).
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "secret", "secret-key", "your-secret-key", "xxx", "dev", "test"}
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLOODPOST_", extra="ignore")

    db_url: str = Field(
        "sqlite:///floodpost.db", description="Store URL: sqlite:///path or postgresql://…"
    )
    geodata_dir: Path = Field(default_factory=default_geodata, description="Folder of layer files")
    host: str = Field("127.0.0.1", description="Address to listen on")
    port: int = Field(8000, description="TCP port")
    workers: int = Field(1, ge=1, description="Server processes")
    tls_certfile: Path | None = Field(
        None,
        description="PEM certificate to serve HTTPS (phones need HTTPS for GPS and the offline form "
        "unless on localhost)",
    )
    tls_keyfile: Path | None = Field(None, description="PEM private key for tls_certfile")
    secret_key: str | None = Field(
        None, description="Signing key for sessions and tokens; generated beside the db if unset"
    )
    demo: bool = Field(False, description="Demo mode: badge on every page, demo accounts")
    default_locale: str = Field("zh_CN", description="Interface language when none is chosen")

    tile_url: str = Field(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="XYZ basemap template; empty for no basemap (county and townships as base)",
    )
    tile_attribution: str = Field("© OpenStreetMap contributors", description="Basemap credit")
    tile_crs: str = Field(
        "wgs84", description="Datum of the basemap tiles: wgs84, or gcj02 for Amap/Tencent tiles"
    )

    max_body_bytes: int = Field(65536, description="Largest request body accepted, bytes")
    db_busy_timeout_s: float = Field(
        5.0,
        gt=0,
        description="How long a write waits for a database locked elsewhere before 503, seconds",
    )
    write_queue_max: int = Field(
        20_000, ge=1, description="Writes waiting for the database beyond which new ones get 503"
    )
    outside_county_max_m: float = Field(
        5000.0, description="Reports further than this outside the county are refused, metres"
    )
    nearest_village_max_m: float = Field(
        3000.0,
        description="A point outside every village area routes to the nearest within, metres",
    )
    future_tolerance_min: int = Field(
        24 * 60,
        ge=0,
        description="A date a client sends may lie at most this far after the server clock, min",
    )
    token_ttl_min: int = Field(12 * 60, description="Bearer token and session lifetime, minutes")
    login_max_failures: int = Field(5, description="Failed sign-ins before throttling")
    login_window_s: int = Field(300, description="Window for counting failed sign-ins, seconds")

    escalate_unassigned_min: int = Field(
        15, description="Help request not assigned within this many minutes is escalated"
    )
    escalate_stale_min: int = Field(
        60, description="Help request not updated within this many minutes is escalated"
    )
    duplicate_radius_m: float = Field(
        100.0, description="Likely-duplicate help request radius, metres"
    )
    duplicate_window_min: int = Field(120, description="Likely-duplicate time window, minutes")
    silent_zone_hours: float = Field(
        6.0, description="A zone with no report for this many hours is shown as silent"
    )

    def store_limits(self) -> dict[str, float]:
        """open_store's keyword arguments for fault handling (storage/faults.py)."""
        return {"busy_timeout_s": self.db_busy_timeout_s, "max_queue": self.write_queue_max}

    def store_path_dir(self) -> Path:
        """Folder beside the database where generated files (the secret key) are kept."""
        if self.db_url.startswith("sqlite:///"):
            return Path(self.db_url.removeprefix("sqlite:///")).expanduser().resolve().parent
        return Path.cwd()
