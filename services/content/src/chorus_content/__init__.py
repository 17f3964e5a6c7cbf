"""chorus_content."""
