"""How many tokens an image, audio clip or file in a prompt costs, per provider family.

Providers bill media as input tokens, so the estimate (billed when an upstream reports
nothing believable, and counted by the TPM limiter) and the bound (reserved against the
budget) must include them. The rules, documented in docs/gateway-fields.md:

- OpenAI family (openai, openai_compatible, mock): the tile rule of GPT-4o-class models.
  `detail: low` is 85 tokens; otherwise the image is fitted into 2048x2048, its short side
  scaled to 768, and each 512-pixel tile costs 170 plus 85 base (`original` is counted as
  `high`). Unknown size (an https URL, an unreadable header): 1,445, the rule's maximum.
  The bound also covers the patch rule of the mini/nano models (32-pixel patches, at most
  1,536, times up to 2.46): 3,779 for an unknown size.
- Anthropic: width x height / 750 after the resize Anthropic applies (long edge at most
  1,568 px and about 1.15 megapixels); unknown size: 1,600, its documented maximum.
- Gemini: 258 for an image within 384x384, else 258 per 768x768 tile; unknown size: 16
  tiles (4,128 tokens, a 3072x3072 image).
- Audio (`input_audio`): 32 tokens a second (Gemini's rate, the highest published). The
  estimate assumes 16 kB/s (32 kB/s for wav); the bound assumes 1 kB/s, the lowest
  bitrate that still carries speech.
- Files (`file_data`, e.g. PDFs): the estimate is a token per 4 bytes of the file; the
  bound is a token per base64 character (more than one per byte of the file, covering its
  text and page images).

A data URI's image size is read from the first bytes of its PNG, GIF, WebP or JPEG
header; nothing else of it is decoded.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
from typing import Any

OPENAI = "openai"
ANTHROPIC = "anthropic"
GEMINI = "gemini"
FAMILY_OF_KIND = {"anthropic": ANTHROPIC, "gemini": GEMINI}  # every other kind: OPENAI

OPENAI_LOW = 85
OPENAI_TILE = 170
OPENAI_UNKNOWN = OPENAI_LOW + OPENAI_TILE * 8  # 768x2048 after scaling: 2x4 tiles
PATCH_CAP = 1_536
PATCH_MULTIPLIER = 2.46
OPENAI_PATCH_UNKNOWN = math.ceil(PATCH_CAP * PATCH_MULTIPLIER)
ANTHROPIC_LONG_EDGE = 1_568
ANTHROPIC_MAX_PIXELS = 1_150_000
ANTHROPIC_UNKNOWN = 1_600
GEMINI_TILE = 258
GEMINI_UNKNOWN = GEMINI_TILE * 16
AUDIO_TOKENS_PER_SECOND = 32
AUDIO_ESTIMATE_BYTES_PER_SECOND = {"wav": 32_000}
AUDIO_DEFAULT_BYTES_PER_SECOND = 16_000
AUDIO_BOUND_BYTES_PER_SECOND = 1_000
HEADER_CHARS = 65_536  # base64 characters read to find an image's size (48 kB)


def family(kind: str) -> str:
    return FAMILY_OF_KIND.get(kind, OPENAI)


def image_size(url: str) -> tuple[int, int] | None:
    """(width, height) from a base64 data URI's image header; None if it cannot be read."""
    if not url.startswith("data:"):
        return None
    comma = url.find(",")
    if comma < 0 or ";base64" not in url[:comma]:
        return None
    head = url[comma + 1 : comma + 1 + HEADER_CHARS]
    head = head[: len(head) - len(head) % 4]
    try:
        data = base64.b64decode(head)
    except (binascii.Error, ValueError):
        return None
    size = _header_size(data)
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    return size


def _header_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            w = int.from_bytes(data[24:27], "little") + 1
            h = int.from_bytes(data[27:30], "little") + 1
            return w, h
        if chunk == b"VP8 ":
            w, h = struct.unpack("<HH", data[26:30])
            return w & 0x3FFF, h & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        return None
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        # SOF0..SOF15 carry the size, except DHT (C4), JPG (C8) and DAC (CC).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return w, h
        i += 2 + length
    return None


def openai_tiles(width: int, height: int) -> int:
    w, h = float(width), float(height)
    if max(w, h) > 2048:
        scale = 2048 / max(w, h)
        w, h = w * scale, h * scale
    if min(w, h) > 768:
        scale = 768 / min(w, h)
        w, h = w * scale, h * scale
    return OPENAI_LOW + OPENAI_TILE * math.ceil(w / 512) * math.ceil(h / 512)


def openai_patches(width: int, height: int) -> int:
    patches = math.ceil(width / 32) * math.ceil(height / 32)
    return math.ceil(min(patches, PATCH_CAP) * PATCH_MULTIPLIER)


def anthropic_pixels(width: int, height: int) -> int:
    w, h = float(width), float(height)
    if max(w, h) > ANTHROPIC_LONG_EDGE:
        scale = ANTHROPIC_LONG_EDGE / max(w, h)
        w, h = w * scale, h * scale
    if w * h > ANTHROPIC_MAX_PIXELS:
        scale = math.sqrt(ANTHROPIC_MAX_PIXELS / (w * h))
        w, h = w * scale, h * scale
    return math.ceil(w * h / 750)


def gemini_tiles(width: int, height: int) -> int:
    if width <= 384 and height <= 384:
        return GEMINI_TILE
    return GEMINI_TILE * math.ceil(width / 768) * math.ceil(height / 768)


def image_tokens(part: dict[str, Any], families: tuple[str, ...]) -> tuple[int, int]:
    """(estimate for the first family, bound over all families) of an image part."""
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    detail = image.get("detail") if isinstance(image, dict) else None
    size = image_size(url) if isinstance(url, str) else None
    estimate = bound = 0
    for n, fam in enumerate(families):
        if fam == ANTHROPIC:
            est = bnd = anthropic_pixels(*size) if size else ANTHROPIC_UNKNOWN
        elif fam == GEMINI:
            est = bnd = gemini_tiles(*size) if size else GEMINI_UNKNOWN
        else:
            if detail == "low":
                est = OPENAI_LOW
            else:
                est = openai_tiles(*size) if size else OPENAI_UNKNOWN
            bnd = max(est, openai_patches(*size) if size else OPENAI_PATCH_UNKNOWN)
        if n == 0:
            estimate = est
        bound = max(bound, bnd)
    return estimate, bound


def _base64_payload(value: Any) -> int:
    """Characters of base64 payload in a data URI or a bare base64 string."""
    if not isinstance(value, str):
        return 0
    comma = value.find(",") if value.startswith("data:") else -1
    return len(value) - comma - 1


def _decoded_size(value: Any) -> int:
    """Bytes a base64 payload decodes to (without decoding it)."""
    if not isinstance(value, str):
        return 0
    chars = _base64_payload(value)
    padding = 2 if value.endswith("==") else 1 if value.endswith("=") else 0
    return max(0, chars * 3 // 4 - padding)


def audio_tokens(part: dict[str, Any]) -> tuple[int, int]:
    audio = part.get("input_audio")
    if not isinstance(audio, dict):
        return 0, 0
    raw = _decoded_size(audio.get("data"))
    rate = AUDIO_ESTIMATE_BYTES_PER_SECOND.get(audio.get("format"), AUDIO_DEFAULT_BYTES_PER_SECOND)
    estimate = math.ceil(raw * AUDIO_TOKENS_PER_SECOND / rate)
    bound = math.ceil(raw * AUDIO_TOKENS_PER_SECOND / AUDIO_BOUND_BYTES_PER_SECOND)
    return estimate, bound


def file_tokens(part: dict[str, Any]) -> tuple[int, int]:
    file = part.get("file")
    if not isinstance(file, dict):
        return 0, 0
    data = file.get("file_data")
    return (_decoded_size(data) + 3) // 4, _base64_payload(data)


def media_tokens(part: dict[str, Any], families: tuple[str, ...]) -> tuple[int, int]:
    """(estimate, bound) of a non-text content part; (0, 0) for anything unknown."""
    kind = part.get("type")
    if kind == "image_url":
        return image_tokens(part, families)
    if kind == "input_audio":
        return audio_tokens(part)
    if kind == "file":
        return file_tokens(part)
    return 0, 0
