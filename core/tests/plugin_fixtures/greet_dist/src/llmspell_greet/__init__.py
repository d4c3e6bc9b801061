"""A throwaway llmspell plugin used by the kernel's tests."""
