"""Authentication: API keys for systems, JWTs for people, the built-in login."""
