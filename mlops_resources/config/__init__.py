"""Stack file config: reading machinery, value checks, one module per program."""
