"""The one settings class (env prefix FLOODPOST_). Built by the CLI or tests, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from floodpost.errors import ConfigError
from floodpost.geo.gcj02 import Datum, check_datum
from floodpost.i18n import LANGUAGES, Language, normalise_language
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
    default_locale: Language = Field("zh_CN", description="Interface language when none is chosen")

    tile_url: str = Field(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="XYZ basemap template; empty for no basemap (county and townships as base)",
    )
    tile_attribution: str = Field("© OpenStreetMap contributors", description="Basemap credit")
    tile_crs: Datum = Field(
        "wgs84", description="Datum of the basemap tiles: wgs84, or gcj02 for Amap/Tencent tiles"
    )

    basemap: Path | None = Field(
        None,
        description="MBTiles file served at /tiles/{z}/{x}/{y} as the offline basemap (replaces "
        "tile_url; attribution from its metadata; declare a GCJ-02 file with tile_crs)",
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
    gauge_silent_min: float = Field(
        30.0,
        gt=0,
        description="A gauge with no reading for this many minutes is shown as silent (never 0 mm)",
    )

    def store_limits(self) -> dict[str, float]:
        """open_store's keyword arguments for fault handling (storage/faults.py)."""
        return {"busy_timeout_s": self.db_busy_timeout_s, "max_queue": self.write_queue_max}

    @field_validator("default_locale", mode="before")
    @classmethod
    def _known_language(cls, value: Any) -> Any:
        # Tags people write ("zh-CN", "en_US") name a language we ship; anything else is refused
        # here rather than silently falling back to Chinese on every page.
        found = normalise_language(value) if isinstance(value, str) else None
        if found is None:
            raise ValueError(f"unknown language {value!r}; expected one of {', '.join(LANGUAGES)}")
        return found

    @field_validator("tile_crs", mode="before")
    @classmethod
    def _known_datum(cls, value: Any) -> Any:
        return check_datum(value) if isinstance(value, str) else value  # names the bad value

    @model_validator(mode="after")
    def _offline_basemap(self) -> Settings:
        """With an MBTiles basemap the map and the form draw floodpost's own /tiles, credited
        as the file says (unless a tile_attribution was given)."""
        if self.basemap is None:
            return self
        from floodpost.mapview.mbtiles import TILE_URL, basemap_attribution

        attribution, raster = basemap_attribution(self.basemap)
        if raster:  # vector tiles are served, but Leaflet cannot draw them: no basemap then
            self.tile_url = TILE_URL
        else:
            self.tile_url = ""
        if "tile_attribution" not in self.model_fields_set:
            self.tile_attribution = attribution
        return self

    sms_inject_path: str = Field(
        "gammu-smsd-inject", description="gammu-smsd-inject program that queues outgoing SMS"
    )
    sms_gammu_config: Path = Field(
        Path("/etc/gammu-smsdrc"),
        description="gammu-smsd configuration (its files-service folders are read from it)",
    )
    sms_send_in_demo: bool = Field(
        False, description="Send SMS even in demo mode (otherwise demo mode sends nothing)"
    )

    def store_path_dir(self) -> Path:
        """Folder beside the database where generated files (the secret key) are kept."""
        if self.db_url.startswith("sqlite:///"):
            return Path(self.db_url.removeprefix("sqlite:///")).expanduser().resolve().parent
        return Path.cwd()


def config_error(exc: ValidationError) -> ConfigError:
    """The first bad setting as a ConfigError naming its environment variable."""
    first = exc.errors(include_url=False)[0]
    name = ".".join(str(p) for p in first.get("loc", ())) or "settings"
    msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return ConfigError(f"FLOODPOST_{name.upper()}: {msg}", field=name)


def checked(settings: Settings) -> Settings:
    """`settings` validated again (``model_copy(update=...)`` skips validation): a bad value is
    refused at start-up with a ConfigError naming the variable, never on the first request."""
    try:
        Settings.model_validate(settings.model_dump())
    except ValidationError as exc:
        raise config_error(exc) from None
    return settings


def load_settings(**values: Any) -> Settings:
    """Settings from FLOODPOST_* variables and `values`; ConfigError for a bad one."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise config_error(exc) from None
