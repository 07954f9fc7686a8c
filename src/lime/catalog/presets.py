"""The built-in OpenAI-compatible service presets and what each one accepts on the wire.

A flag here is a *static* belief about a service. What a server actually rejects at run time is
learned and remembered separately (``lime.providers.openai_compat.compat_memory``); what a local
server advertises comes from the entry or from the server itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MaxTokensField = Literal["max_tokens", "max_completion_tokens"]


@dataclass(frozen=True)
class Preset:
    """A service lime knows: its base URL, its key variable, and what its API is believed to accept."""

    id: str
    name: str
    base_url: str
    env_var: str | None
    supports_reasoning_effort: bool = False
    supports_include_usage: bool = False
    supports_tools: bool = False
    supports_verbosity: bool = False
    supports_response_format: bool = False
    max_tokens_field: MaxTokensField = "max_tokens"
    # "none" is not accepted as a reasoning level by every service that takes reasoning_effort.
    reasoning_levels: tuple[str, ...] = ("low", "medium", "high")
    needs_key: bool = True
    local: bool = False
    # Ask the server itself (llama.cpp's /props, /v1/models) for capabilities and window.
    discover: bool = False
    notes: str = ""
    # A second key variable read when the first is unset (Gemini: GOOGLE_API_KEY).
    env_fallback: str | None = None


PRESETS: dict[str, Preset] = {
    p.id: p
    for p in (
        Preset(
            "openai", "OpenAI", "https://api.openai.com/v1", "OPENAI_API_KEY",
            supports_reasoning_effort=True, supports_include_usage=True, supports_tools=True,
            supports_verbosity=True, supports_response_format=True,
            max_tokens_field="max_completion_tokens",
            reasoning_levels=("none", "low", "medium", "high", "xhigh"),
            notes="o-series and GPT-5 reject max_tokens; they want max_completion_tokens.",
        ),
        Preset(
            "groq", "Groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY",
            supports_reasoning_effort=True, supports_include_usage=True, supports_tools=True,
            supports_response_format=True,
            notes="reasoning_effort only on its reasoning models (gpt-oss, qwen3).",
        ),
        Preset(
            "openrouter", "OpenRouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY",
            supports_reasoning_effort=True, supports_include_usage=True, supports_tools=True,
            supports_response_format=True,
            reasoning_levels=("low", "medium", "high"),
            notes="Sends ': OPENROUTER PROCESSING' keep-alive comments while queued.",
        ),
        Preset(
            "together", "Together AI", "https://api.together.xyz/v1", "TOGETHER_API_KEY",
            supports_reasoning_effort=True, supports_include_usage=True, supports_tools=True,
            supports_response_format=True,
        ),
        Preset(
            "mistral", "Mistral", "https://api.mistral.ai/v1", "MISTRAL_API_KEY",
            supports_tools=True, supports_response_format=True,
            notes="Rejects unknown fields with 422 extra_forbidden (stream_options included); "
            "sends usage in the last chunk unasked.",
        ),
        Preset(
            "deepinfra", "DeepInfra", "https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_KEY",
            supports_include_usage=True, supports_tools=True, supports_response_format=True,
        ),
        Preset(
            "cerebras", "Cerebras", "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY",
            supports_reasoning_effort=True, supports_tools=True, supports_response_format=True,
            notes="Sends usage in the last chunk unasked.",
        ),
        Preset(
            "xai", "xAI", "https://api.x.ai/v1", "XAI_API_KEY",
            supports_reasoning_effort=True, supports_include_usage=True, supports_tools=True,
            supports_response_format=True,
            reasoning_levels=("low", "high"),
            notes="Only grok-3-mini takes reasoning_effort; grok-4 rejects it.",
        ),
        Preset(
            "perplexity", "Perplexity", "https://api.perplexity.ai", "PERPLEXITY_API_KEY",
            notes="No function calling; usage always in the final chunk.",
        ),
        Preset(
            "cohere", "Cohere", "https://api.cohere.ai/compatibility/v1", "COHERE_API_KEY",
            supports_tools=True, supports_response_format=True,
            notes="The compatibility API rejects several OpenAI fields (e.g. n) with 422.",
        ),
        Preset(
            "nvidia", "NVIDIA", "https://integrate.api.nvidia.com/v1", "NVIDIA_API_KEY",
            supports_include_usage=True, supports_tools=True,
        ),
        Preset(
            "ollama", "Ollama", "http://localhost:11434/v1", None,
            needs_key=False, local=True,
            notes="Optional fields only when the model entry declares them; its OpenAI endpoint "
            "truncates silently at num_ctx.",
        ),
        Preset(
            "anthropic", "Anthropic", "https://api.anthropic.com/v1", "ANTHROPIC_API_KEY",
            supports_reasoning_effort=True, supports_tools=True, supports_response_format=True,
            reasoning_levels=("minimal", "low", "medium", "high", "xhigh"),
            notes="Messages API: x-api-key, prompt caching, thinking signatures sent back; "
            "--output-schema through a forced structured_output tool.",
        ),
        Preset(
            "gemini", "Google Gemini", "https://generativelanguage.googleapis.com/v1beta", "GEMINI_API_KEY",
            supports_reasoning_effort=True, supports_tools=True, supports_response_format=True,
            reasoning_levels=("none", "minimal", "low", "medium", "high"), env_fallback="GOOGLE_API_KEY",
            notes="streamGenerateContent over SSE; x-goog-api-key; thought signatures sent back.",
        ),
        Preset(
            "local", "Local llama.cpp (managed by lime)", "http://127.0.0.1/v1", None,
            needs_key=False, local=True, discover=True,
            notes="Started on demand by lime ('lime local start'); capabilities from /props.",
        ),
    )
}

# The seed's table: the 12 public presets. ``local`` is lime's own managed server.
PUBLIC_PRESET_IDS: tuple[str, ...] = tuple(p for p in PRESETS if p not in ("local", "anthropic", "gemini"))
# Services reached over their own wire rather than Chat Completions (``lime login --provider NAME``).
NATIVE_SERVICES: tuple[str, ...] = ("anthropic", "gemini")


def get_preset(service: str | None) -> Preset | None:
    return PRESETS.get(service) if service else None
