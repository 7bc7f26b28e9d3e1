"""Typed Pulumi components for one ML project's Databricks MLOps resources."""
