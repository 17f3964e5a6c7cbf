"""chorus_metrics."""
