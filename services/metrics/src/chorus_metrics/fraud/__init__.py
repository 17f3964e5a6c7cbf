"""Fraud filtering of tracked-link clicks: per-tenant rules and a pure judge."""
