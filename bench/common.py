"""What every part of the benchmark uses: the time zone, ``log`` and the settings."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from ledger.core.settings import Settings

ZONE = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _settings(url: str, evidence_dir: Path) -> Settings:
    return Settings(database_url=url, evidence_dir=evidence_dir)
