"""Helpers shared by the translators: content flattening, data URIs, chunks, usage dicts."""

from __future__ import annotations

import hashlib
import mimetypes
from typing import Any

import orjson

from apps.gateway.providers.usage import combine


def content_text(content: Any) -> str:
    """The text of an OpenAI `content`: a string, or the text parts of a list joined."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    texts = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and part.get("type") in ("text", "input_text", None):
            text = part.get("text")
            if isinstance(text, str):
                texts.append(text)
    return "".join(texts)


def parse_data_uri(url: str) -> tuple[str, str] | None:
    """`data:<mime>;base64,<data>` → (mime, data); None for anything else."""
    if not url.startswith("data:"):
        return None
    header, sep, data = url.partition(",")
    if not sep or ";base64" not in header:
        return None
    mime = header[5:].split(";", 1)[0] or "application/octet-stream"
    return mime, data


def data_uri(mime: str, data: str) -> str:
    return f"data:{mime};base64,{data}"


def guess_mime(url: str, default: str = "image/jpeg") -> str:
    mime, _ = mimetypes.guess_type(url.split("?", 1)[0])
    return mime or default


def dumps_str(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads_object(arguments: Any) -> dict[str, Any]:
    """Tool-call arguments (a JSON string) as an object; malformed JSON is kept, not lost."""
    if isinstance(arguments, dict):
        return arguments
    if not arguments:
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return {"_raw_arguments": arguments}
    return value if isinstance(value, dict) else {"value": value}


def make_call_id(*parts: object) -> str:
    """A stable tool-call id for providers that do not send one (Gemini)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return "call_" + digest[:24]


def chunk(
    chunk_id: str,
    created: int,
    model: str,
    delta: dict[str, Any],
    finish_reason: str | None = None,
    index: int = 0,
) -> dict[str, Any]:
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": index, "delta": delta, "finish_reason": finish_reason}],
    }


def usage_chunk(chunk_id: str, created: int, model: str, usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": usage,
    }


def openai_usage(
    prompt: Any,
    completion: Any,
    *,
    cached: Any = 0,
    cache_write: Any = 0,
    reasoning: Any = 0,
) -> dict[str, Any]:
    """An OpenAI usage object. The counts come from an upstream and are not trusted yet:
    garbage is carried through (never summed) for `usage_from_openai` to reject."""
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": combine(prompt, completion),
        "prompt_tokens_details": {"cached_tokens": cached},
    }
    if cache_write:
        usage["prompt_tokens_details"]["cache_write_tokens"] = cache_write
    if reasoning:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return usage


def stop_list(stop: Any) -> list[str] | None:
    if not stop:
        return None
    if isinstance(stop, str):
        return [stop]
    return [s for s in stop if isinstance(s, str)] or None


def max_output_tokens(request: dict[str, Any]) -> int | None:
    value = request.get("max_completion_tokens")
    if value is None:
        value = request.get("max_tokens")
    return value if isinstance(value, int) else None


class TranslationError(ValueError):
    """The request cannot be expressed in the target wire format (a client error, 400)."""
