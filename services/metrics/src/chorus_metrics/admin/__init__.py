"""Tenant administration of metrics: fraud rules, program facts, audiences, fingerprints."""
