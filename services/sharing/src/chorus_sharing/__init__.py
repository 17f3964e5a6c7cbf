"""chorus_sharing."""
