"""chorus_platform."""
