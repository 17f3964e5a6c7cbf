"""Aggregated engagement per share and its `engagement.updated` events."""
