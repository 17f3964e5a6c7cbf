"""chorus_rewards."""
