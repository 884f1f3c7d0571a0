"""Images, audio and files in a prompt are counted, per provider family, and `n` is honoured.

Before providers/media.py an image part added 0 tokens to the estimate (and a flat 1,600
to the bound whatever its size or provider); the mock ignored images and `n`.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

import pytest

from apps.gateway.providers.base import is_usage_chunk
from apps.gateway.providers.media import (
    ANTHROPIC,
    GEMINI,
    OPENAI,
    OPENAI_PATCH_UNKNOWN,
    OPENAI_UNKNOWN,
    anthropic_pixels,
    audio_tokens,
    file_tokens,
    gemini_tiles,
    image_size,
    image_tokens,
    openai_tiles,
)
from apps.gateway.providers.tokens import estimate_prompt_tokens, measure_prompt
from tests.gateway.providers.support import chat, stream, target


def png(width: int, height: int) -> str:
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR"
    header += struct.pack(">II", width, height) + b"\x08\x02\x00\x00\x00" + b"\x00" * 64
    return "data:image/png;base64," + base64.b64encode(header).decode()


def jpeg(width: int, height: int) -> str:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x00" * 9
    sof = b"\xff\xc0" + struct.pack(">HBHH", 17, 8, height, width) + b"\x03" + b"\x00" * 9
    return "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8" + app0 + sof).decode()


def gif(width: int, height: int) -> str:
    raw = b"GIF89a" + struct.pack("<HH", width, height) + b"\x00" * 8
    return "data:image/gif;base64," + base64.b64encode(raw).decode()


def webp(width: int, height: int) -> str:
    raw = b"RIFF\x00\x00\x00\x00WEBPVP8X" + b"\x00" * 8
    raw += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little") + b"\x00" * 8
    return "data:image/webp;base64," + base64.b64encode(raw).decode()


def image_part(url: str, detail: str | None = None) -> dict[str, Any]:
    image: dict[str, Any] = {"url": url}
    if detail:
        image["detail"] = detail
    return {"type": "image_url", "image_url": image}


def with_parts(*parts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    content = [{"type": "text", "text": "what is this"}, *parts]
    return {"model": "m", "messages": [{"role": "user", "content": content}], **extra}


@pytest.mark.parametrize("make", [png, jpeg, gif, webp])
def test_the_size_is_read_from_the_image_header(make: Any) -> None:
    assert image_size(make(1024, 600)) == (1024, 600)
    assert image_size("https://example.com/cat.png") is None
    assert image_size("data:image/png;base64,!!!!") is None


def test_openai_counts_tiles_by_detail_and_size() -> None:
    assert openai_tiles(1024, 1024) == 85 + 170 * 4  # scaled to 768x768: 2x2 tiles
    assert openai_tiles(4096, 8192) == 85 + 170 * 6  # 1024x2048 → 768x1536: 2x3
    assert openai_tiles(100, 100) == 85 + 170
    assert image_tokens(image_part(png(1024, 1024), "low"), (OPENAI,))[0] == 85
    assert image_tokens(image_part(png(1024, 1024)), (OPENAI,))[0] == 765
    # Unknown size: the rule's maximum; the bound also covers the patch-based models.
    assert image_tokens(image_part("https://x/y.png"), (OPENAI,)) == (
        OPENAI_UNKNOWN,
        OPENAI_PATCH_UNKNOWN,
    )


def test_anthropic_and_gemini_have_their_own_rules() -> None:
    assert anthropic_pixels(1000, 1000) == 1334
    assert anthropic_pixels(8000, 6000) <= 1600  # resized before counting
    assert gemini_tiles(300, 300) == 258
    assert gemini_tiles(1000, 1000) == 258 * 4
    part = image_part(png(1000, 1000))
    assert image_tokens(part, (ANTHROPIC,))[0] == 1334
    assert image_tokens(part, (GEMINI,))[0] == 1032
    # Routed to several providers: the estimate follows the first, the bound the dearest.
    assert image_tokens(part, (GEMINI, ANTHROPIC)) == (1032, 1334)


def test_an_image_counts_in_the_estimate_and_the_bound() -> None:
    plain = with_parts()
    with_image = with_parts(image_part(png(1024, 1024)))
    estimate, bound = measure_prompt(with_image)
    assert estimate - estimate_prompt_tokens(plain) == 765
    assert bound - measure_prompt(plain)[1] >= 765
    both = measure_prompt(with_parts(image_part(png(1000, 1000))), (OPENAI, ANTHROPIC))
    assert both[1] - measure_prompt(plain)[1] >= 1334


def test_audio_and_files_are_counted_with_a_documented_bound() -> None:
    one_second_wav = base64.b64encode(b"\x00" * 32_000).decode()
    audio = {"type": "input_audio", "input_audio": {"data": one_second_wav, "format": "wav"}}
    assert audio_tokens(audio) == (32, 1024)
    pdf = base64.b64encode(b"%PDF" + b"\x00" * 3996).decode()
    file = {"type": "file", "file": {"file_data": "data:application/pdf;base64," + pdf}}
    estimate, bound = file_tokens(file)
    assert estimate == 1000 and bound == len(pdf)
    assert measure_prompt(with_parts(audio, file))[0] > measure_prompt(with_parts())[0] + 1000


def test_the_mock_counts_images_in_its_reported_usage() -> None:
    plain = chat(target(None, "mock"), with_parts())
    seen = chat(target(None, "mock"), with_parts(image_part(png(1024, 1024))))
    assert seen.usage.reported
    assert seen.usage.prompt_tokens - plain.usage.prompt_tokens == 765


def test_the_mock_returns_n_choices_billed_n_times() -> None:
    one = chat(target(None, "mock"), with_parts())
    three = chat(target(None, "mock"), with_parts(n=3))
    assert [c["index"] for c in three.response["choices"]] == [0, 1, 2]
    assert three.usage.completion_tokens == 3 * one.usage.completion_tokens
    assert three.response["usage"]["completion_tokens"] == three.usage.completion_tokens
    chunks, opened, error = stream(target(None, "mock"), with_parts(n=2))
    assert error is None
    indexes = {ch["index"] for c in chunks if not is_usage_chunk(c) for ch in c["choices"]}
    assert indexes == {0, 1}
    assert opened.usage.completion_tokens == 2 * one.usage.completion_tokens
