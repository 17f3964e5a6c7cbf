"""chorus_devstack."""
