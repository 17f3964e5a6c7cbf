"""Chorus gateway service: The one public API: authentication, tenancy, routing and rate limits."""
