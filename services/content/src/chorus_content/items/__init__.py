"""Content items: the library, its approval workflow and its events."""
