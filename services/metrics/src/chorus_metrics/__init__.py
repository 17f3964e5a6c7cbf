"""Chorus metrics service: Engagement ingestion, fraud filtering, KPIs → engagement.updated."""
