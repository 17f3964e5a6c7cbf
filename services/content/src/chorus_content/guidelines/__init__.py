"""Guidelines: content policy, brand style guide and the text check."""
