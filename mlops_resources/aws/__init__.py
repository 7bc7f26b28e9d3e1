"""The AWS components of the bootstrap program: state bucket, KMS keys, CI roles."""
