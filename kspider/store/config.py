"""The store's settings: the one place that reads them (Scrapy settings, else the environment)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kspider.store import neardup


def setting(settings: Any, name: str, default: Any = None) -> Any:
    """A setting from Scrapy settings (or a dict), else the environment, else the default."""
    value = None
    if settings is not None:
        value = settings.get(name)
    if value is None:
        value = os.environ.get(name)
    return default if value is None else value


@dataclass
class StoreConfig:
    uri: str = ""
    database: str = "kspider"
    embedded_dir: str = ".kspider/db"
    write_concern: str = "1"
    batch_size: int = 100
    spill_dir: str = ".kspider/spill"
    threshold: float = neardup.DEFAULT_THRESHOLD
    timeout_ms: int = 5000
    # After a failed call, the first retry in the background after this many seconds, doubling up to the max.
    retry_s: float = 1.0
    retry_max_s: float = 60.0

    @classmethod
    def from_settings(cls, settings: Any) -> "StoreConfig":
        embedded_dir = str(setting(settings, "EMBEDDED_DB_DIR", "") or ".kspider/db")
        # The data directory is the parent of the embedded store's directory.
        default_spill = str(Path(embedded_dir).parent / "spill")
        return cls(
            uri=str(setting(settings, "MONGO_URI", "") or ""),
            database=str(setting(settings, "MONGO_DATABASE", "") or "kspider"),
            embedded_dir=embedded_dir,
            write_concern=str(setting(settings, "MONGO_WRITE_CONCERN", "") or "1"),
            batch_size=max(1, int(setting(settings, "STORE_BATCH_SIZE", 100) or 100)),
            spill_dir=str(setting(settings, "SPILL_DIR", "") or default_spill),
            threshold=float(setting(settings, "NEARDUP_THRESHOLD", neardup.DEFAULT_THRESHOLD) or neardup.DEFAULT_THRESHOLD),
            timeout_ms=int(setting(settings, "MONGO_TIMEOUT_MS", 5000) or 5000),
            retry_s=float(setting(settings, "STORE_RETRY_S", 1.0) or 1.0),
            retry_max_s=float(setting(settings, "STORE_RETRY_MAX_S", 60.0) or 60.0),
        )
