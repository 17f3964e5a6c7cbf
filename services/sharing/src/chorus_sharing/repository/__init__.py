"""Postgres adapters: the only modules of the service that contain SQL."""
