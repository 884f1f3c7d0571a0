"""Provider kind → adapter. Adapters are stateless, so one instance per kind is shared."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from apps.gateway.providers.anthropic import AnthropicAdapter
from apps.gateway.providers.base import ProviderAdapter
from apps.gateway.providers.gemini import GeminiAdapter
from apps.gateway.providers.mock import MockAdapter
from apps.gateway.providers.openai import OpenAIAdapter

ADAPTERS: Mapping[str, ProviderAdapter] = MappingProxyType(
    {
        "openai": OpenAIAdapter("openai"),
        "openai_compatible": OpenAIAdapter("openai_compatible"),
        "anthropic": AnthropicAdapter(),
        "gemini": GeminiAdapter(),
        "mock": MockAdapter(),
    }
)
PROVIDER_KINDS: tuple[str, ...] = tuple(ADAPTERS)


def get_adapter(kind: str) -> ProviderAdapter:
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise LookupError(f"unknown provider kind {kind!r}") from None
