"""Chorus metrics service: Engagement ingestion, fraud filtering and KPIs; publishes engagement.updated."""
