"""Network analytics connectors: poll a network for engagement on known posts."""
