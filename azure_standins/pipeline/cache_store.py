"""Azure's pipeline cache service, on disk: entries saved under a key, shared by the runs
of one pipeline.

An entry is immutable: saving under a key that exists changes nothing. A restore key is a
prefix, and the newest entry whose key starts with it wins (Cache@2's documentation).
"""

import hashlib
import json
import shutil
import time
from pathlib import Path

from azure_standins.rules import applies


class CacheStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _entry(self, key: str) -> Path:
        return self.root / hashlib.sha256(key.encode()).hexdigest()

    def get(self, key: str) -> Path | None:
        entry = self._entry(key)
        return entry / "data" if entry.exists() else None

    def newest_with_prefix(self, prefix: str) -> tuple[str, Path] | None:
        found = []
        for entry in self.root.iterdir():
            meta = json.loads((entry / "meta.json").read_text())
            if meta["key"].startswith(prefix):
                found.append((meta["saved"], meta["key"], entry / "data"))
        if not found:
            return None
        _, key, data = max(found) if applies("cache.restore-newest") else min(found)
        return key, data

    def save(self, key: str, path: Path) -> bool:
        entry = self._entry(key)
        if entry.exists() and applies("cache.immutable"):
            return False
        shutil.rmtree(entry, ignore_errors=True)
        shutil.copytree(path, entry / "data", symlinks=True)
        (entry / "meta.json").write_text(json.dumps({"key": key, "saved": time.time()}))
        return True
