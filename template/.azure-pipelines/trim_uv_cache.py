"""Trim the uv cache to uv.lock: drop cached wheels of versions the lock no longer names.

`uv cache prune` deletes only what no cache entry refers to, so it keeps every downloaded
wheel, which is what the pipeline caches them for. But after a change to uv.lock, Cache@2
restores the previous cache through restoreKeys and uv adds the new versions beside the old
ones: without this step the saved cache would grow with every dependency update. This
removes the index entries (wheels-v*/index/<index>/<package>/<version>-*) of versions the lock
does not name; `uv cache prune`, run next, deletes the unpacked files they pointed to.

It reads the cache layout of the uv release the pipeline pins; `copier update` keeps the two
in step.
"""

import os
import re
import shutil
from pathlib import Path

LOCKED_PACKAGE = re.compile(r'^name = "([^"]+)"\nversion = "([^"]+)"', re.MULTILINE)


def trim_uv_cache(cache: Path, lock: Path) -> int:
    locked = set(LOCKED_PACKAGE.findall(lock.read_text(encoding="utf-8")))
    trimmed = 0
    for entry in cache.glob("wheels-v*/index/*/*/*"):
        package, version = entry.parent.name, entry.name.split("-", 1)[0]
        if (package, version) in locked:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
        trimmed += 1
    return trimmed


if __name__ == "__main__":
    count = trim_uv_cache(Path(os.environ["UV_CACHE_DIR"]), Path("uv.lock"))
    print(f"Trimmed {count} uv cache entries of versions uv.lock does not name.")
