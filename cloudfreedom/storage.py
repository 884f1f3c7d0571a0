"""Static files storage: WhiteNoise's hashed and compressed files, compressed once.

WhiteNoise's storage compresses every collected file on every `collectstatic`, twice
(the plain name and the hashed copy), with Brotli at its slowest setting. `make run`
collects on every start, and the API docs' bundles alone are megabytes: that was about
40 s of CPU per start on this project. Pages link only the hashed names (`{% static %}`),
so only those are compressed, and a hashed name whose compressed copies exist already
holds exactly that content (the hash is of the content), so it is not compressed again.
Plain names are still collected and served, uncompressed: the admin's scripts build some
image URLs at run time without the hash.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage

# Source maps are megabytes that only a developer's tools fetch: not worth compressing.
SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")


class AtomicCompressor(Compressor):
    """Writes each compressed copy under a temporary name first: an interrupted run must
    not leave a truncated `.br` that later runs would take as done."""

    def write_data(self, path: str, data: bytes, suffix: str, stat_result: os.stat_result) -> str:
        filename = path + suffix
        partial = filename + ".partial"
        with open(partial, "wb") as fh:
            fh.write(data)
        os.utime(partial, (stat_result.st_atime, stat_result.st_mtime))
        os.replace(partial, filename)
        return filename


class CompressedManifestStorage(CompressedManifestStaticFilesStorage):
    def create_compressor(self, **kwargs: Any) -> Compressor:
        if kwargs.get("extensions") is None:  # WHITENOISE_SKIP_COMPRESS_EXTENSIONS unset
            kwargs["extensions"] = SKIP_COMPRESS_EXTENSIONS
        return AtomicCompressor(**kwargs)

    def compress_files(self, paths: Iterable[str]) -> Iterator[tuple[str, str]]:
        # `hashed_files` is complete here: WhiteNoise compresses after the manifest pass.
        hashed = set(self.hashed_files.values())
        pending = [path for path in paths if path in hashed and not self._compressed(path)]
        yield from super().compress_files(pending)

    def _compressed(self, name: str) -> bool:
        # Some small files compress well with Brotli only, so either copy counts. (Were a
        # run stopped between the two, that file would just lack its gzip copy.)
        full_path = self.path(name)
        return any(os.path.exists(full_path + suffix) for suffix in (".br", ".gz"))
