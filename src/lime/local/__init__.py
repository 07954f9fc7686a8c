"""lime's managed local llama.cpp server (the optional ``local`` extra)."""
