"""Program KPIs per tenant, each figure labelled measured, reported or estimated."""
