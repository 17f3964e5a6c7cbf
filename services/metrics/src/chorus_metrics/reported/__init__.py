"""The reported-engagement batch API: network observations pushed by collectors."""
