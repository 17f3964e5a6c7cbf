"""The directory: tenants, teams, people with roles, enrolment, API keys."""
