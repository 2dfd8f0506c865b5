"""The parts of a gammu-smsd configuration file (man gammu-smsdrc) floodpost reads: the `files`
service's folders, to read incoming texts and to follow what was sent."""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path

from floodpost.errors import ConfigError


@dataclass(frozen=True)
class GammuConfig:
    path: Path
    service: str  # "files", "sql", "null", …
    inbox: Path | None
    outbox: Path | None
    sent: Path | None
    error: Path | None

    @classmethod
    def read(cls, path: Path) -> GammuConfig:
        parser = configparser.ConfigParser(
            interpolation=None, strict=False, inline_comment_prefixes=None
        )
        try:
            with open(path, encoding="utf-8") as fh:
                parser.read_file(fh)
        except (OSError, configparser.Error, UnicodeDecodeError) as exc:
            raise ConfigError(f"gammu-smsd config {path}: {exc}", field="sms_gammu_config") from exc
        if not parser.has_section("smsd"):
            raise ConfigError(
                f"gammu-smsd config {path}: no [smsd] section", field="sms_gammu_config"
            )
        smsd = parser["smsd"]

        def folder(key: str) -> Path | None:
            value = smsd.get(key, "").strip()
            return Path(value) if value else None

        service = smsd.get("service", "").strip().lower()
        if service == "files":
            # gammu's own default for the files service is the working directory.
            return cls(
                Path(path),
                service,
                folder("inboxpath") or Path("."),
                folder("outboxpath") or Path("."),
                folder("sentsmspath") or folder("outboxpath") or Path("."),
                folder("errorsmspath") or folder("sentsmspath") or Path("."),
            )
        return cls(Path(path), service, None, None, None, None)

    def send_state(self, message_id: str) -> str:
        """Where an injected message is now (files service): "queued" in the outbox, "sent",
        "failed" (moved to the error folder), or "unknown" (other services, or removed)."""
        name = Path(message_id).name
        for state, folder in (("queued", self.outbox), ("sent", self.sent), ("failed", self.error)):
            if folder is not None and (folder / name).is_file():
                return state
        return "unknown"
