from __future__ import annotations

from typing import Any

from apps.gateway.translate.common import TranslationError
from apps.gateway.translate.gemini import (
    THOUGHT_SEP,
    GeminiToOpenAIStream,
    gemini_to_openai_embeddings,
    gemini_to_openai_request,
    gemini_to_openai_response,
    openai_to_gemini_embed_request,
    openai_to_gemini_request,
    openai_to_gemini_response,
)
from tests.gateway.providers.support import text_of, tool_calls_of

TOOLS = [
    {
        "type": "function",
        "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
    }
]
REQUEST: dict[str, Any] = {
    "model": "gemini",
    "messages": [
        {"role": "developer", "content": "Be terse."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}},
                {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp_c": 21}'},
        {"role": "user", "content": "Thanks"},
    ],
    "tools": TOOLS,
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    "max_tokens": 256,
    "temperature": 0.2,
    "top_p": 0.95,
    "seed": 7,
    "stop": "END",
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "x", "schema": {"type": "object"}},
    },
}


def test_openai_request_becomes_generate_content() -> None:
    body = openai_to_gemini_request(REQUEST)
    assert body["systemInstruction"] == {"parts": [{"text": "Be terse."}]}
    user, model, result = body["contents"]
    assert user["parts"][1] == {"inlineData": {"mimeType": "image/png", "data": "iVBORw=="}}
    assert user["parts"][2] == {
        "fileData": {"mimeType": "image/png", "fileUri": "https://x.test/a.png"}
    }
    assert model == {
        "role": "model",
        "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}],
    }
    assert result["role"] == "user"
    assert result["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"temp_c": 21}}},
        {"text": "Thanks"},
    ]
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "parametersJsonSchema": {"type": "object", "properties": {}},
                }
            ]
        }
    ]
    assert body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
    }
    assert body["generationConfig"] == {
        "maxOutputTokens": 256,
        "temperature": 0.2,
        "topP": 0.95,
        "seed": 7,
        "stopSequences": ["END"],
        "responseMimeType": "application/json",
        "responseJsonSchema": {"type": "object"},
    }


def test_plain_text_tool_results_are_wrapped_in_an_object() -> None:
    messages = [
        {
            "role": "assistant",
            "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c", "content": "sunny"},
    ]
    body = openai_to_gemini_request({"messages": messages})
    assert body["contents"][1]["parts"][0]["functionResponse"] == {
        "name": "f",
        "response": {"result": "sunny"},
    }


def test_requests_round_trip_through_gemini() -> None:
    back = gemini_to_openai_request(openai_to_gemini_request(REQUEST), model="gemini")
    assert back["messages"][0] == {"role": "system", "content": "Be terse."}
    assert back["messages"][2]["tool_calls"][0]["function"]["arguments"] == '{"city":"Paris"}'
    tool = back["messages"][3]
    assert (
        tool["role"] == "tool"
        and tool["tool_call_id"] == back["messages"][2]["tool_calls"][0]["id"]
    )
    assert back["messages"][4] == {"role": "user", "content": "Thanks"}
    assert back["tool_choice"] == REQUEST["tool_choice"]
    assert back["max_completion_tokens"] == 256
    assert back["response_format"]["json_schema"]["schema"] == {"type": "object"}


GEMINI_RESPONSE = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {"text": "thinking...", "thought": True},
                    {"text": "Checking."},
                    {
                        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                        "thoughtSignature": "c2ln",
                    },
                ],
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 20,
        "candidatesTokenCount": 5,
        "thoughtsTokenCount": 12,
        "cachedContentTokenCount": 4,
        "totalTokenCount": 37,
    },
    "modelVersion": "gemini-2.5-flash",
    "responseId": "r1",
}


def test_gemini_response_becomes_openai() -> None:
    response = gemini_to_openai_response(GEMINI_RESPONSE, model="g")
    choice = response["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Checking."
    assert choice["message"]["reasoning_content"] == "thinking..."
    call = choice["message"]["tool_calls"][0]
    assert call["id"].endswith(THOUGHT_SEP + "c2ln")
    assert response["usage"] == {
        "prompt_tokens": 20,
        "completion_tokens": 17,
        "total_tokens": 37,
        "prompt_tokens_details": {"cached_tokens": 4},
        "completion_tokens_details": {"reasoning_tokens": 12},
    }
    back = openai_to_gemini_response(response)
    assert back["usageMetadata"] == {
        "promptTokenCount": 20,
        "candidatesTokenCount": 5,
        "thoughtsTokenCount": 12,
        "cachedContentTokenCount": 4,
        "totalTokenCount": 37,
    }
    assert (
        back["candidates"][0]["content"]["parts"]
        == GEMINI_RESPONSE["candidates"][0]["content"]["parts"]
    )


def test_the_thought_signature_goes_back_to_gemini() -> None:
    call = gemini_to_openai_response(GEMINI_RESPONSE)["choices"][0]["message"]["tool_calls"][0]
    body = openai_to_gemini_request({"messages": [{"role": "assistant", "tool_calls": [call]}]})
    assert body["contents"][0]["parts"][0]["thoughtSignature"] == "c2ln"


def test_finish_reasons_and_blocked_prompts() -> None:
    for reason, finish in (
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("NEW_THING", "stop"),
    ):
        candidate = {"content": {"parts": [{"text": "x"}]}, "finishReason": reason}
        response = gemini_to_openai_response({"candidates": [candidate]})
        assert response["choices"][0]["finish_reason"] == finish
    blocked = gemini_to_openai_response({"promptFeedback": {"blockReason": "SAFETY"}})
    assert blocked["choices"][0]["finish_reason"] == "content_filter"


def test_stream_fragments_become_chunks() -> None:
    translator = GeminiToOpenAIStream(model="g")
    fragments = [
        {
            "candidates": [{"content": {"parts": [{"text": "Hel"}], "role": "model"}, "index": 0}],
            "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5},
            "responseId": "r1",
        },
        {"candidates": [{"content": {"parts": [{"text": "lo"}], "role": "model"}, "index": 0}]},
        {
            "candidates": [
                {
                    "content": {"parts": [{"functionCall": {"name": "f", "args": {"a": 1}}}]},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": 5,
                "candidatesTokenCount": 2,
                "totalTokenCount": 7,
            },
        },
    ]
    chunks = [c for f in fragments for c in translator.feed(f)] + translator.finish()
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert text_of(chunks) == "Hello"
    assert tool_calls_of(chunks)[0]["arguments"] == '{"a":1}'
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["completion_tokens"] == 2
    assert translator.done
    assert {c["id"] for c in chunks} == {"chatcmpl-r1"}


def test_embeddings_translate_both_ways() -> None:
    body = openai_to_gemini_embed_request({"input": "hi", "dimensions": 3}, model="models/e")
    assert body == {
        "requests": [
            {"model": "models/e", "outputDimensionality": 3, "content": {"parts": [{"text": "hi"}]}}
        ]
    }
    response = gemini_to_openai_embeddings(
        {"embeddings": [{"values": [0.1, 0.2]}]}, model="e", prompt_tokens=1
    )
    assert response["data"] == [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}]
    try:
        openai_to_gemini_embed_request({"input": [[1, 2]]}, model="e")
    except TranslationError:
        pass
    else:
        raise AssertionError("token arrays must be refused")
