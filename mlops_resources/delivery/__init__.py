"""Delivery tools that talk to a workspace (the offline tools never import this package)."""
