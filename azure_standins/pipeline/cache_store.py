"""Azure's pipeline cache service, on disk: entries saved under a key, in a scope.

An entry is immutable: saving under a key that exists changes nothing. A restore key is a
prefix, and the newest entry whose key starts with it wins (Cache@2's documentation). Every
entry belongs to a scope, a pipeline and a branch: a job reads the scopes visible to it and
writes only its own (Microsoft Learn, "Pipeline caching", cache isolation and security). A
store used without scopes has one.
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

    def _entry(self, key: str, scope: str) -> Path:
        return self.root / hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()

    def get(self, key: str, scopes: tuple[str, ...] = ("",)) -> Path | None:
        if not applies("cache.scopes"):  # every scope's entries, as one
            scopes = tuple(
                json.loads(m.read_text())["scope"] for m in self.root.glob("*/meta.json")
            )
        for scope in scopes:
            entry = self._entry(key, scope)
            if entry.exists():
                return entry / "data"
        return None

    def newest_with_prefix(
        self, prefix: str, scopes: tuple[str, ...] = ("",)
    ) -> tuple[str, Path] | None:
        found = []
        for entry in self.root.iterdir():
            meta = json.loads((entry / "meta.json").read_text())
            visible = meta["scope"] in scopes or not applies("cache.scopes")
            if visible and meta["key"].startswith(prefix):
                found.append((meta["saved"], meta["key"], entry / "data"))
        if not found:
            return None
        _, key, data = max(found) if applies("cache.restore-newest") else min(found)
        return key, data

    def save(self, key: str, path: Path, scope: str = "") -> bool:
        entry = self._entry(key, scope)
        if entry.exists() and applies("cache.immutable"):
            return False
        shutil.rmtree(entry, ignore_errors=True)
        shutil.copytree(path, entry / "data", symlinks=True)
        meta = {"key": key, "scope": scope, "saved": time.time()}
        (entry / "meta.json").write_text(json.dumps(meta))
        return True
