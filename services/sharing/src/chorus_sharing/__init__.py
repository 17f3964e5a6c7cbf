"""Chorus sharing service: Advocates' feed, shares, share intents and tracked links; publishes share.posted."""
