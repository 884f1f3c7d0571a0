"""The `encoding_format: "base64"` codec: raw little-endian float32, base64-encoded.

The gateway asks upstreams for floats and encodes here when the client wanted base64
(the OpenAI SDK asks for base64 by default).
"""

from __future__ import annotations

import base64
import sys
from array import array
from collections.abc import Sequence
from typing import Any

_BIG_ENDIAN = sys.byteorder == "big"


def encode_floats_base64(vector: Sequence[float]) -> str:
    values = array("f", vector)
    if _BIG_ENDIAN:
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


def decode_base64_floats(data: str) -> list[float]:
    values = array("f")
    values.frombytes(base64.b64decode(data))
    if _BIG_ENDIAN:
        values.byteswap()
    return values.tolist()


def to_base64_response(response: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of an OpenAI embeddings response with base64-encoded vectors."""
    data = []
    for item in response.get("data") or ():
        embedding = item.get("embedding")
        if isinstance(embedding, list):
            item = {**item, "embedding": encode_floats_base64(embedding)}
        data.append(item)
    return {**response, "data": data}


def to_float_response(response: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of an OpenAI embeddings response with float-list vectors."""
    data = []
    for item in response.get("data") or ():
        embedding = item.get("embedding")
        if isinstance(embedding, str):
            item = {**item, "embedding": decode_base64_floats(embedding)}
        data.append(item)
    return {**response, "data": data}
