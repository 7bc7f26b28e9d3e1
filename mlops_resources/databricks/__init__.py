"""The Databricks components an mlops stack declares, one module per component."""
