"""Built-in catalog entries: at least one real model per preset, with its published context window."""

from __future__ import annotations

from lime.catalog.entries import ModelEntry


def _e(slug: str, service: str, window: int, max_output: int, **kw: object) -> ModelEntry:
    provider = service if service in ("openai", "anthropic", "gemini") else "openai-compat"
    return ModelEntry(
        slug=slug,
        provider=provider,
        service=None if provider != "openai-compat" else service,
        context_window=window,
        max_output=max_output,
        source="builtin",
        **kw,  # type: ignore[arg-type]
    )


BUILTIN_ENTRIES: tuple[ModelEntry, ...] = (
    _e("gpt-5.4", "openai", 1_050_000, 128_000, display_name="GPT-5.4",
       description="OpenAI's frontier model (1M context)", param_preset="reasoning_and_verbosity",
       supports_vision=True, supports_parallel_tool_calls=True, supports_reasoning_summaries=True),
    _e("gpt-5-mini", "openai", 400_000, 128_000, display_name="GPT-5 mini",
       description="Smaller, cheaper GPT-5", param_preset="reasoning_and_verbosity",
       supports_vision=True, supports_parallel_tool_calls=True, supports_reasoning_summaries=True),
    _e("gpt-4.1", "openai", 1_047_576, 32_768, display_name="GPT-4.1",
       description="Non-reasoning GPT with a 1M window", supports_vision=True,
       supports_parallel_tool_calls=True),
    _e("gpt-4o-mini", "openai", 128_000, 16_384, display_name="GPT-4o mini",
       description="Fast, small multimodal model", supports_vision=True, supports_parallel_tool_calls=True),
    _e("gpt-5.5", "openai", 1_050_000, 90_000, display_name="GPT-5.5", param_preset="reasoning_and_verbosity",
       description="OpenAI GPT-5.5", supports_vision=True, supports_parallel_tool_calls=True,
       supports_reasoning_summaries=True),
    _e("gpt-5.4-pro", "openai", 1_050_000, 90_000, display_name="GPT-5.4 Pro", param_preset="reasoning_and_verbosity",
       description="OpenAI GPT-5.4 Pro", supports_vision=True, supports_parallel_tool_calls=True,
       supports_reasoning_summaries=True),
    _e("gpt-5.4-mini", "openai", 400_000, 64_000, display_name="GPT-5.4 Mini", param_preset="reasoning_and_verbosity",
       description="OpenAI GPT-5.4 Mini", supports_vision=True, supports_parallel_tool_calls=True,
       supports_reasoning_summaries=True),
    _e("gpt-5.4-nano", "openai", 400_000, 32_000, display_name="GPT-5.4 Nano", param_preset="verbosity_only",
       description="OpenAI GPT-5.4 Nano", supports_vision=True, supports_parallel_tool_calls=True),
    _e("o3", "openai", 200_000, 100_000, display_name="o3", param_preset="reasoning_and_verbosity",
       description="OpenAI o3", supports_vision=True, supports_parallel_tool_calls=True,
       supports_reasoning_summaries=True),
    _e("o4-mini", "openai", 200_000, 100_000, display_name="o4-mini", param_preset="reasoning_and_verbosity",
       description="OpenAI o4-mini", supports_vision=True, supports_parallel_tool_calls=True,
       supports_reasoning_summaries=True),
    _e("o1", "openai", 200_000, 100_000, display_name="o1", param_preset="reasoning_only",
       description="OpenAI o1", supports_vision=True, supports_reasoning_summaries=True),
    _e("gpt-4o", "openai", 128_000, 16_384, display_name="GPT-4o", param_preset="verbosity_only",
       description="OpenAI GPT-4o", supports_vision=True, supports_parallel_tool_calls=True),
    # Adaptive thinking (an effort level, no token budget): Opus 4.7 takes nothing else, the 4.6
    # models take both and prefer it; the others take only a budget.
    *(_e(slug, "anthropic", window, out, display_name=name, description=f"Anthropic {name}",
         upper_max_output=upper, param_preset=preset, supports_vision=True, supports_parallel_tool_calls=True,
         supports_extended_thinking=True, supports_adaptive_thinking=adaptive)
      for slug, name, window, out, upper, preset, adaptive in (
          ("claude-opus-4-7", "Claude Opus 4.7", 1_000_000, 32_000, 128_000, "reasoning_and_verbosity", True),
          ("claude-sonnet-4-6", "Claude Sonnet 4.6", 1_000_000, 16_000, 64_000, "reasoning_and_verbosity", True),
          ("claude-haiku-4-5", "Claude Haiku 4.5", 200_000, 16_000, 64_000, "reasoning_and_verbosity", False),
          ("claude-opus-4-6", "Claude Opus 4.6 (legacy)", 1_000_000, 32_000, 128_000, "reasoning_only", True),
          ("claude-sonnet-4-5", "Claude Sonnet 4.5 (legacy)", 200_000, 16_000, 64_000, "reasoning_only", False),
          ("claude-opus-4-5", "Claude Opus 4.5 (legacy)", 200_000, 32_000, 64_000, "reasoning_only", False),
          ("claude-opus-4-1", "Claude Opus 4.1 (legacy)", 200_000, 32_000, 32_000, "reasoning_only", False))),
    *(_e(slug, "gemini", 1_048_576, 65_536, display_name=name, description=f"Google {name}",
         param_preset="reasoning_only", supports_vision=True, supports_parallel_tool_calls=True,
         supports_extended_thinking=thinking)
      for slug, name, thinking in (
          ("gemini-2.5-pro", "Gemini 2.5 Pro", True),
          ("gemini-2.5-flash", "Gemini 2.5 Flash", True),
          ("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", False),
          ("gemini-3.1-pro-preview", "Gemini 3.1 Pro (preview)", True),
          ("gemini-3-flash-preview", "Gemini 3 Flash (preview)", True),
          ("gemini-3.1-flash-lite-preview", "Gemini 3.1 Flash-Lite (preview)", False))),
    _e("llama-3.3-70b", "groq", 131_072, 32_768, api_id="llama-3.3-70b-versatile",
       display_name="Llama 3.3 70B (Groq)", description="Meta Llama 3.3 70B on Groq",
       supports_parallel_tool_calls=True),
    _e("groq-gpt-oss-120b", "groq", 131_072, 65_536, api_id="openai/gpt-oss-120b",
       display_name="gpt-oss-120b (Groq)", description="OpenAI open-weight reasoning model on Groq",
       param_preset="reasoning_only", supports_parallel_tool_calls=True),
    _e("claude-sonnet-4.5", "openrouter", 1_000_000, 64_000, api_id="anthropic/claude-sonnet-4.5",
       display_name="Claude Sonnet 4.5 (OpenRouter)", description="Anthropic Claude Sonnet 4.5 via OpenRouter",
       param_preset="reasoning_only", supports_vision=True, supports_parallel_tool_calls=True,
       supports_extended_thinking=True),
    _e("llama-3.3-70b-turbo", "together", 131_072, 32_768, api_id="meta-llama/Llama-3.3-70B-Instruct-Turbo",
       display_name="Llama 3.3 70B Turbo (Together)", description="Meta Llama 3.3 70B on Together AI",
       supports_parallel_tool_calls=True),
    _e("mistral-small", "mistral", 131_072, 32_768, api_id="mistral-small-latest",
       display_name="Mistral Small", description="Mistral Small (128k)", supports_vision=True,
       supports_parallel_tool_calls=True),
    _e("llama-3.1-8b-deepinfra", "deepinfra", 131_072, 16_384, api_id="meta-llama/Meta-Llama-3.1-8B-Instruct",
       display_name="Llama 3.1 8B (DeepInfra)", description="Meta Llama 3.1 8B on DeepInfra",
       supports_parallel_tool_calls=True),
    _e("cerebras-gpt-oss-120b", "cerebras", 131_072, 32_768, api_id="gpt-oss-120b",
       display_name="gpt-oss-120b (Cerebras)", description="OpenAI open-weight reasoning model on Cerebras",
       param_preset="reasoning_only", supports_parallel_tool_calls=True),
    _e("grok-4", "xai", 256_000, 32_768, display_name="Grok 4",
       description="xAI Grok 4 (always reasons; rejects reasoning_effort)", supports_vision=True,
       supports_parallel_tool_calls=True),
    _e("grok-3-mini", "xai", 131_072, 32_768, display_name="Grok 3 mini",
       description="xAI Grok 3 mini (reasoning_effort low/high)", param_preset="reasoning_only",
       supports_parallel_tool_calls=True),
    _e("sonar", "perplexity", 128_000, 8_192, display_name="Sonar",
       description="Perplexity Sonar (web-grounded answers)"),
    _e("sonar-pro", "perplexity", 200_000, 8_192, display_name="Sonar Pro",
       description="Perplexity Sonar Pro"),
    _e("command-a", "cohere", 256_000, 8_000, api_id="command-a-03-2025",
       display_name="Command A", description="Cohere Command A via the compatibility API",
       supports_parallel_tool_calls=True),
    _e("nvidia-llama-3.3-70b", "nvidia", 128_000, 4_096, api_id="meta/llama-3.3-70b-instruct",
       display_name="Llama 3.3 70B (NVIDIA NIM)", description="Meta Llama 3.3 70B on NVIDIA's API catalog",
       supports_parallel_tool_calls=True),
    _e("llama3.2", "ollama", 4_096, 1_024, display_name="Llama 3.2 (Ollama)",
       description="Budgeted at Ollama's default num_ctx (4096), which its OpenAI endpoint truncates to silently"),
    _e("smollm2", "local", 2_048, 512, display_name="SmolLM2 135M Instruct (local)",
       description="Runs offline on lime's managed llama.cpp server; window read from the server"),
)

LOCAL_SLUG = "smollm2"

# Friendly names for built-in slugs (a catalog entry of the same name wins).
ALIASES: dict[str, str] = {
    "gpt4": "gpt-5.4", "mini": "gpt-5.4-mini", "o3-mini": "o3",
    "opus": "claude-opus-4-7", "sonnet": "claude-sonnet-4-5", "haiku": "claude-haiku-4-5",
    "pro": "gemini-2.5-pro", "gemini-pro": "gemini-2.5-pro", "flash": "gemini-2.5-flash",
    "gemini-flash": "gemini-2.5-flash", "flash-lite": "gemini-2.5-flash-lite",
    "gemini-flash-lite": "gemini-2.5-flash-lite", "pro-3": "gemini-3.1-pro-preview",
    "gemini-3-pro": "gemini-3.1-pro-preview", "gemini-3.1-pro": "gemini-3.1-pro-preview",
    "flash-3": "gemini-3-flash-preview", "gemini-3-flash": "gemini-3-flash-preview",
    "flash-lite-3": "gemini-3.1-flash-lite-preview", "gemini-3.1-flash-lite": "gemini-3.1-flash-lite-preview",
}


def wire_id_entry(slug: str) -> ModelEntry | None:
    """Any full Gemini model id (``gemini-2.5-pro-preview-03-25``) works without a custom entry."""
    import re

    if not re.fullmatch(r"gemini-[0-9][0-9a-z.\-]{1,80}", slug):
        return None
    return _e(slug, "gemini", 1_048_576, 65_536, display_name=slug, description="Gemini model by its wire id",
              param_preset="reasoning_only", supports_parallel_tool_calls=True)
