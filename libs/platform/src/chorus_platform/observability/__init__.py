"""Logging, tracing and HTTP instrumentation shared by every service."""
