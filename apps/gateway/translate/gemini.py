"""OpenAI Chat Completions ↔ Gemini generateContent; streams and embeddings too.

Gemini has no tool-call ids and no tool-call finish reason: ids are made up (stable
hashes) and a `STOP` turn containing `functionCall` parts finishes as `tool_calls`.
Thinking models attach a `thoughtSignature` to function calls that must be sent back on
the next turn; it rides inside the OpenAI tool-call id (after `THOUGHT_SEP`) so it
survives a round trip through OpenAI-speaking clients.
"""

from __future__ import annotations

import time
from typing import Any

from apps.gateway.providers.usage import combine
from apps.gateway.translate.common import (
    TranslationError,
    chunk,
    content_text,
    data_uri,
    dumps_str,
    guess_mime,
    loads_object,
    make_call_id,
    max_output_tokens,
    openai_usage,
    parse_data_uri,
    stop_list,
    usage_chunk,
)

THOUGHT_SEP = "__thought__"
_FILTERED = ("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY")
TO_OPENAI_FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    **dict.fromkeys(_FILTERED, "content_filter"),
}
TO_GEMINI_FINISH = {
    "stop": "STOP",
    "length": "MAX_TOKENS",
    "tool_calls": "STOP",
    "function_call": "STOP",
    "content_filter": "SAFETY",
}


def openai_finish_reason(reason: str | None, has_calls: bool = False) -> str | None:
    if reason is None:
        return None
    if has_calls and reason == "STOP":
        return "tool_calls"
    return TO_OPENAI_FINISH.get(reason, "stop")


def gemini_usage_to_openai(meta: dict[str, Any]) -> dict[str, Any]:
    # The prompt count is required; the others are absent when zero (an empty answer has
    # no candidatesTokenCount). An explicit null or any garbage is carried through for
    # `usage_from_openai` to reject.
    thoughts = meta.get("thoughtsTokenCount", 0)
    prompt = meta.get("promptTokenCount")
    if prompt is not None:
        prompt = combine(prompt, meta.get("toolUsePromptTokenCount", 0))
    return openai_usage(
        prompt,
        combine(meta.get("candidatesTokenCount", 0), thoughts),
        cached=meta.get("cachedContentTokenCount") or 0,
        reasoning=thoughts,
    )


def _usage_of(meta: Any) -> Any:
    if isinstance(meta, dict):
        return gemini_usage_to_openai(meta)
    return meta or None


def openai_usage_to_gemini(usage: dict[str, Any] | None) -> dict[str, Any]:
    usage = usage or {}
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    prompt = usage.get("prompt_tokens") or 0
    completion = usage.get("completion_tokens") or 0
    meta = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": completion - reasoning,
        "totalTokenCount": prompt + completion,
    }
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    if cached:
        meta["cachedContentTokenCount"] = cached
    if reasoning:
        meta["thoughtsTokenCount"] = reasoning
    return meta


# -- OpenAI request → Gemini request ---------------------------------------------------


def _parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type")
        if kind == "text":
            if part.get("text"):
                parts.append({"text": part["text"]})
        elif kind in ("image_url", "file"):
            if kind == "image_url":
                image = part.get("image_url")
                url = image.get("url") if isinstance(image, dict) else image
            else:
                url = (part.get("file") or {}).get("file_data")
            if not isinstance(url, str) or not url:
                raise TranslationError(f"{kind} part without data")
            parsed = parse_data_uri(url)
            if parsed:
                parts.append({"inlineData": {"mimeType": parsed[0], "data": parsed[1]}})
            else:
                parts.append({"fileData": {"mimeType": guess_mime(url), "fileUri": url}})
        else:
            raise TranslationError(f"content part type {kind!r} is not supported by gemini")
    return parts


def _function_call_part(call: dict[str, Any]) -> dict[str, Any]:
    function = call.get("function") or {}
    part: dict[str, Any] = {
        "functionCall": {
            "name": function.get("name"),
            "args": loads_object(function.get("arguments")),
        }
    }
    call_id = call.get("id") or ""
    if THOUGHT_SEP in call_id:
        part["thoughtSignature"] = call_id.split(THOUGHT_SEP, 1)[1]
    return part


def _tool_response(content: Any) -> dict[str, Any]:
    text = content_text(content)
    try:
        value = loads_object(text) if text.lstrip().startswith("{") else None
    except TranslationError:
        value = None
    # functionResponse.response must be an object; wrap anything else.
    if value is None or "_raw_arguments" in value:
        return {"result": text}
    return value


def openai_to_gemini_request(request: dict[str, Any]) -> dict[str, Any]:
    """Build a generateContent body; the model goes into the URL, not the body."""
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    call_names: dict[str, str] = {}

    def push(role: str, parts: list[dict[str, Any]]) -> None:
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})

    for message in request.get("messages") or ():
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            system.extend(_parts(content_text(content)))
        elif role == "user":
            parts = _parts(content)
            if parts:
                push("user", parts)
        elif role == "assistant":
            parts = _parts(content_text(content))
            for call in message.get("tool_calls") or ():
                call_names[call.get("id") or ""] = (call.get("function") or {}).get("name") or ""
                parts.append(_function_call_part(call))
            if parts:
                push("model", parts)
        elif role == "tool":
            name = call_names.get(message.get("tool_call_id") or "") or message.get("name") or ""
            push(
                "user", [{"functionResponse": {"name": name, "response": _tool_response(content)}}]
            )
        else:
            raise TranslationError(f"message role {role!r} is not supported by gemini")

    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": system}
    declarations = []
    for tool in request.get("tools") or ():
        if tool.get("type") != "function":
            continue
        function = tool.get("function") or {}
        declaration: dict[str, Any] = {"name": function.get("name")}
        if function.get("description"):
            declaration["description"] = function["description"]
        if function.get("parameters"):
            declaration["parametersJsonSchema"] = function["parameters"]
        declarations.append(declaration)
    if declarations:
        body["tools"] = [{"functionDeclarations": declarations}]
        choice = request.get("tool_choice")
        config: dict[str, Any] | None = None
        if choice == "none":
            config = {"mode": "NONE"}
        elif choice == "required":
            config = {"mode": "ANY"}
        elif choice == "auto":
            config = {"mode": "AUTO"}
        elif isinstance(choice, dict) and choice.get("type") == "function":
            name = (choice.get("function") or {}).get("name")
            config = {"mode": "ANY", "allowedFunctionNames": [name]}
        if config:
            body["toolConfig"] = {"functionCallingConfig": config}
    generation: dict[str, Any] = {}
    limit = max_output_tokens(request)
    if limit is not None:
        generation["maxOutputTokens"] = limit
    for source, target in (
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("seed", "seed"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
    ):
        if request.get(source) is not None:
            generation[target] = request[source]
    if (request.get("n") or 1) > 1:
        generation["candidateCount"] = request["n"]
    stops = stop_list(request.get("stop"))
    if stops:
        generation["stopSequences"] = stops
    response_format = request.get("response_format") or {}
    if response_format.get("type") in ("json_object", "json_schema"):
        generation["responseMimeType"] = "application/json"
        schema = (response_format.get("json_schema") or {}).get("schema")
        if schema:
            generation["responseJsonSchema"] = schema
    if generation:
        body["generationConfig"] = generation
    return body


# -- Gemini response → OpenAI response -------------------------------------------------


def _call_id(call: dict[str, Any], part: dict[str, Any], *seed: object) -> str:
    call_id = call.get("id") or make_call_id(*seed, call.get("name"))
    signature = part.get("thoughtSignature") or part.get("thought_signature")
    return f"{call_id}{THOUGHT_SEP}{signature}" if signature else call_id


def _tool_call(part: dict[str, Any], *seed: object) -> dict[str, Any]:
    call = part.get("functionCall") or part.get("function_call") or {}
    return {
        "id": _call_id(call, part, *seed),
        "type": "function",
        "function": {"name": call.get("name"), "arguments": dumps_str(call.get("args") or {})},
    }


def gemini_to_openai_response(
    response: dict[str, Any], *, model: str = "", created: int | None = None
) -> dict[str, Any]:
    response_id = response.get("responseId") or ""
    choices = []
    for position, candidate in enumerate(response.get("candidates") or ()):
        index = candidate.get("index", position)
        texts: list[str] = []
        thoughts: list[str] = []
        calls = []
        parts = (candidate.get("content") or {}).get("parts") or ()
        for n, part in enumerate(parts):
            if "functionCall" in part or "function_call" in part:
                calls.append(_tool_call(part, response_id, index, n))
            elif isinstance(part.get("text"), str):
                (thoughts if part.get("thought") else texts).append(part["text"])
        message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None}
        if calls:
            message["tool_calls"] = calls
        elif message["content"] is None:
            message["content"] = ""
        if thoughts:
            message["reasoning_content"] = "".join(thoughts)
        finish = openai_finish_reason(candidate.get("finishReason") or "STOP", bool(calls))
        choices.append(
            {"index": index, "message": message, "logprobs": None, "finish_reason": finish}
        )
    if not choices and (response.get("promptFeedback") or {}).get("blockReason"):
        choices.append(
            {
                "index": 0,
                "message": {"role": "assistant", "content": ""},
                "logprobs": None,
                "finish_reason": "content_filter",
            }
        )
    return {
        "id": "chatcmpl-" + response_id if response_id else "chatcmpl-gemini",
        "object": "chat.completion",
        "created": created if created is not None else int(time.time()),
        "model": model or response.get("modelVersion") or "",
        "choices": choices,
        "usage": _usage_of(response.get("usageMetadata")),
    }


class GeminiToOpenAIStream:
    """Gemini `alt=sse` fragments → OpenAI chunks. `done` once a finishReason arrived."""

    def __init__(self, model: str = "", created: int | None = None) -> None:
        self.model = model
        self.created = created if created is not None else int(time.time())
        self.id = "chatcmpl-gemini"
        self.done = False
        self.usage_metadata: dict[str, Any] | None = None
        self.output_bytes = 0
        self._started = False
        self._calls: dict[int, int] = {}  # candidate index → tool calls so far

    @property
    def openai_usage(self) -> dict[str, Any] | None:
        meta = self.usage_metadata
        return gemini_usage_to_openai(meta) if meta is not None else None

    def feed(self, fragment: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if not self._started:
            self._started = True
            if fragment.get("responseId"):
                self.id = "chatcmpl-" + fragment["responseId"]
            self.model = self.model or fragment.get("modelVersion") or ""
            out.append(
                chunk(self.id, self.created, self.model, {"role": "assistant", "content": ""})
            )
        meta = fragment.get("usageMetadata")
        if meta:
            # Not a dict: garbage, carried as an unreadable count for the validator.
            self.usage_metadata = meta if isinstance(meta, dict) else {"promptTokenCount": meta}
        candidates = fragment.get("candidates") or ()
        for position, candidate in enumerate(candidates):
            index = candidate.get("index", position)
            for part in (candidate.get("content") or {}).get("parts") or ():
                if "functionCall" in part or "function_call" in part:
                    n = self._calls.get(index, 0)
                    self._calls[index] = n + 1
                    call = _tool_call(part, self.id, index, n)
                    self.output_bytes += len(call["function"]["arguments"])
                    delta = {"tool_calls": [{"index": n, **call}]}
                elif isinstance(part.get("text"), str) and part["text"]:
                    text = part["text"]
                    self.output_bytes += len(text.encode())
                    delta = {"reasoning_content" if part.get("thought") else "content": text}
                else:
                    continue
                out.append(chunk(self.id, self.created, self.model, delta, None, index))
            reason = candidate.get("finishReason")
            if reason:
                finish = openai_finish_reason(reason, self._calls.get(index, 0) > 0)
                out.append(chunk(self.id, self.created, self.model, {}, finish, index))
                self.done = True
        if not candidates and (fragment.get("promptFeedback") or {}).get("blockReason"):
            out.append(chunk(self.id, self.created, self.model, {}, "content_filter"))
            self.done = True
        return out

    def finish(self) -> list[dict[str, Any]]:
        """The trailing usage chunk, if any usage arrived."""
        usage = self.openai_usage
        if usage is None:
            return []
        return [usage_chunk(self.id, self.created, self.model, usage)]


# -- the reverse directions, for Gemini-speaking clients and round trips ----------------


def openai_to_gemini_response(response: dict[str, Any]) -> dict[str, Any]:
    candidates = []
    for choice in response.get("choices") or ():
        message = choice.get("message") or {}
        parts: list[dict[str, Any]] = []
        if message.get("reasoning_content"):
            parts.append({"text": message["reasoning_content"], "thought": True})
        text = content_text(message.get("content"))
        if text:
            parts.append({"text": text})
        for call in message.get("tool_calls") or ():
            parts.append(_function_call_part(call))
        candidates.append(
            {
                "content": {"role": "model", "parts": parts},
                "finishReason": TO_GEMINI_FINISH.get(
                    choice.get("finish_reason") or "stop", "OTHER"
                ),
                "index": choice.get("index", 0),
            }
        )
    return {
        "candidates": candidates,
        "usageMetadata": openai_usage_to_gemini(response.get("usage")),
        "modelVersion": response.get("model") or "",
        "responseId": str(response.get("id") or "").removeprefix("chatcmpl-"),
    }


def _openai_content(parts: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part.get("text"), str):
            out.append({"type": "text", "text": part["text"]})
        elif "inlineData" in part or "inline_data" in part:
            inline = part.get("inlineData") or part.get("inline_data") or {}
            mime = inline.get("mimeType") or inline.get("mime_type") or ""
            out.append(
                {"type": "image_url", "image_url": {"url": data_uri(mime, inline.get("data", ""))}}
            )
        elif "fileData" in part or "file_data" in part:
            file = part.get("fileData") or part.get("file_data") or {}
            url = file.get("fileUri") or file.get("file_uri") or ""
            out.append({"type": "image_url", "image_url": {"url": url}})
    if len(out) == 1 and out[0]["type"] == "text":
        return out[0]["text"]
    return out


def gemini_to_openai_request(body: dict[str, Any], *, model: str = "") -> dict[str, Any]:
    """Build an OpenAI chat request from a generateContent body (model from the URL)."""
    messages: list[dict[str, Any]] = []
    system = body.get("systemInstruction") or body.get("system_instruction")
    if system:
        messages.append({"role": "system", "content": content_text(system.get("parts") or [])})
    pending: dict[str, list[str]] = {}  # function name → ids awaiting a response, in order
    for turn, content in enumerate(body.get("contents") or ()):
        parts = content.get("parts") or []
        calls = [p for p in parts if "functionCall" in p or "function_call" in p]
        responses = [p for p in parts if "functionResponse" in p or "function_response" in p]
        rest = [p for p in parts if p not in calls and p not in responses]
        if content.get("role") == "model":
            message: dict[str, Any] = {"role": "assistant", "content": content_text(rest) or None}
            if calls:
                message["tool_calls"] = [
                    _tool_call(p, "request", turn, n) for n, p in enumerate(calls)
                ]
                for call in message["tool_calls"]:
                    pending.setdefault(call["function"]["name"], []).append(call["id"])
            messages.append(message)
            continue
        for part in responses:
            result = part.get("functionResponse") or part.get("function_response") or {}
            name = result.get("name") or ""
            ids = pending.get(name) or []
            call_id = result.get("id") or (ids.pop(0) if ids else make_call_id("orphan", name))
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": call_id,
                    "content": dumps_str(result.get("response") or {}),
                }
            )
        if rest:
            messages.append({"role": "user", "content": _openai_content(rest)})
    request: dict[str, Any] = {"model": model, "messages": messages}
    generation = body.get("generationConfig") or {}
    for source, target in (
        ("maxOutputTokens", "max_completion_tokens"),
        ("temperature", "temperature"),
        ("topP", "top_p"),
        ("seed", "seed"),
        ("stopSequences", "stop"),
        ("presencePenalty", "presence_penalty"),
        ("frequencyPenalty", "frequency_penalty"),
    ):
        if generation.get(source) is not None:
            request[target] = generation[source]
    if generation.get("responseMimeType") == "application/json":
        schema = generation.get("responseJsonSchema")
        request["response_format"] = (
            {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}}
            if schema
            else {"type": "json_object"}
        )
    tools = []
    for tool in body.get("tools") or ():
        for declaration in (
            tool.get("functionDeclarations") or tool.get("function_declarations") or ()
        ):
            function = {"name": declaration.get("name")}
            if declaration.get("description"):
                function["description"] = declaration["description"]
            schema = declaration.get("parametersJsonSchema") or declaration.get("parameters")
            if schema:
                function["parameters"] = schema
            tools.append({"type": "function", "function": function})
    if tools:
        request["tools"] = tools
        config = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
        mode = config.get("mode")
        allowed = config.get("allowedFunctionNames") or []
        if mode == "ANY" and len(allowed) == 1:
            request["tool_choice"] = {"type": "function", "function": {"name": allowed[0]}}
        elif mode in ("ANY", "NONE", "AUTO"):
            request["tool_choice"] = {"ANY": "required", "NONE": "none", "AUTO": "auto"}[mode]
    return request


# -- embeddings ------------------------------------------------------------------------


def openai_to_gemini_embed_request(request: dict[str, Any], *, model: str) -> dict[str, Any]:
    inputs = request.get("input")
    texts = [inputs] if isinstance(inputs, str) else inputs
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise TranslationError("gemini embeddings take text input only (no token arrays)")
    base: dict[str, Any] = {"model": "models/" + model.removeprefix("models/")}
    if request.get("dimensions"):
        base["outputDimensionality"] = request["dimensions"]
    return {"requests": [{**base, "content": {"parts": [{"text": text}]}} for text in texts]}


def gemini_to_openai_embeddings(
    response: dict[str, Any], *, model: str, prompt_tokens: int
) -> dict[str, Any]:
    embeddings = response.get("embeddings")
    if embeddings is None and "embedding" in response:
        embeddings = [response["embedding"]]
    data = [
        {"object": "embedding", "index": i, "embedding": item.get("values") or []}
        for i, item in enumerate(embeddings or ())
    ]
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }
