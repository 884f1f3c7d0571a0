from __future__ import annotations

from apps.gateway.providers.embeddings import (
    decode_base64_floats,
    encode_floats_base64,
    to_base64_response,
    to_float_response,
)
from apps.gateway.providers.tokens import (
    estimate_completion_tokens,
    estimate_embedding_tokens,
    estimate_prompt_tokens,
    estimate_text_tokens,
)


def test_text_tokens_are_utf8_bytes_over_four_rounded_up() -> None:
    assert estimate_text_tokens("") == 0
    assert estimate_text_tokens(None) == 0
    assert estimate_text_tokens("abcd") == 1
    assert estimate_text_tokens("abcde") == 2
    assert estimate_text_tokens("éé") == 1  # 4 bytes


def test_prompt_tokens_count_text_parts_tool_calls_and_four_per_message() -> None:
    request = {
        "messages": [
            {"role": "system", "content": "abcd"},
            {"role": "user", "content": [{"type": "text", "text": "abcd"}, {"type": "image_url"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"function": {"name": "ab", "arguments": "cd"}}],
            },
        ]
    }
    # The image has no readable size: OpenAI's tile rule at its maximum (1,445).
    assert estimate_prompt_tokens(request) == 3 + 1445 + 3 * 4
    with_tools = {**request, "tools": [{"type": "function", "function": {"name": "x"}}]}
    assert estimate_prompt_tokens(with_tools) > estimate_prompt_tokens(request)


def test_completion_and_embedding_estimates() -> None:
    response = {"choices": [{"message": {"content": "abcdefgh"}}]}
    assert estimate_completion_tokens(response) == 2
    assert estimate_embedding_tokens("abcd") == 1
    assert estimate_embedding_tokens(["abcd", "abcde"]) == 3
    assert estimate_embedding_tokens([[1, 2, 3]]) == 3


def test_base64_is_little_endian_float32() -> None:
    assert encode_floats_base64([0.5, -1.25]) == "AAAAPwAAoL8="
    assert decode_base64_floats("AAAAPwAAoL8=") == [0.5, -1.25]


def test_response_conversion_round_trips() -> None:
    response = {"object": "list", "data": [{"index": 0, "embedding": [0.5, -1.25]}]}
    encoded = to_base64_response(response)
    assert encoded["data"][0]["embedding"] == "AAAAPwAAoL8="
    assert response["data"][0]["embedding"] == [0.5, -1.25]  # the input is left alone
    assert to_float_response(encoded) == response
