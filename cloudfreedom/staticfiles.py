"""Static files: WhiteNoise's storage and middleware, fitted to this project.

Storage: WhiteNoise compresses every collected file on every `collectstatic`, twice (the
plain name and the hashed copy), with Brotli at its slowest setting. `make run` collects
on every start, and the API docs' bundles alone are megabytes: that was about 40 s of CPU
per start. Pages link only the hashed names (`{% static %}`), so only those are
compressed, and a hashed name whose compressed copy exists already holds exactly that
content (the hash is of the content), so it is not compressed again. Plain names are
still collected and served, uncompressed: the admin's scripts build some image URLs at
run time without the hash.

Middleware: WhiteNoise hands Django a file to stream synchronously. Under ASGI, Django
then reads the whole file in a worker thread and warns ("StreamingHttpResponse must
consume synchronous iterators") on the first asset of every process. For ASGI requests
the file is streamed asynchronously instead, in chunks read in a thread.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import IO, Any

from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, HttpRequest
from whitenoise import middleware
from whitenoise.compress import Compressor
from whitenoise.responders import StaticFile
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


CHUNK_SIZE = 256 * 1024


class WhiteNoiseMiddleware(middleware.WhiteNoiseMiddleware):
    @staticmethod
    def serve(static_file: StaticFile, request: HttpRequest) -> FileResponse:
        response = middleware.WhiteNoiseMiddleware.serve(static_file, request)
        if isinstance(request, ASGIRequest):
            # The file stays registered for closing with the response.
            response.streaming_content = read_async(response.file_to_stream)
        return response


async def read_async(stream: IO[bytes] | None) -> AsyncIterator[bytes]:
    """The file's bytes, read in a worker thread chunk by chunk (nothing for a HEAD or a
    304, which have no file)."""
    if stream is None:
        return
    while chunk := await asyncio.to_thread(stream.read, CHUNK_SIZE):
        yield chunk
