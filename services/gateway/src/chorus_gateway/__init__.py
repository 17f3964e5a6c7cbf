"""chorus_gateway."""
