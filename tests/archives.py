"""Minimal wheels and sdists: archives that hold only their metadata file, as a feed reads it."""

import io
import tarfile
import zipfile


def distribution(filename: str, summary: str = "", metadata_version: str = "2.3") -> bytes:
    """A minimal wheel (a zip with .dist-info/METADATA) or sdist (a gzipped tar)."""
    name, version = filename.split("-")[:2]
    version = version.removesuffix(".tar.gz")
    metadata = (
        f"Metadata-Version: {metadata_version}\nName: {name}\nVersion: {version}\n"
        f"Summary: {summary}\n"
    )
    buffer = io.BytesIO()
    if filename.endswith(".whl"):
        with zipfile.ZipFile(buffer, "w") as wheel:
            wheel.writestr(f"{name}-{version}.dist-info/METADATA", metadata)
    else:
        with tarfile.open(fileobj=buffer, mode="w:gz") as sdist:
            info = tarfile.TarInfo(f"{name}-{version}/PKG-INFO")
            info.size = len(metadata)
            sdist.addfile(info, io.BytesIO(metadata.encode()))
    return buffer.getvalue()
