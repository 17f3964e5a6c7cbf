"""Chorus sharing service: Feed, shares, share intents, tracked links → share.posted."""
