"""Ingestion: shares read model, clicks and reported engagement, with their verdicts."""
