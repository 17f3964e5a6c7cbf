"""chorus_events."""
