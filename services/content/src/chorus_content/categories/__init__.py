"""Library categories: built-in defaults plus tenant-defined ones."""
