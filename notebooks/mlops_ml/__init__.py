"""ML logic the job notebooks call; importable and tested locally."""
