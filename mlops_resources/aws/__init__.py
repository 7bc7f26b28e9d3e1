"""The AWS components of the bootstrap program: state bucket, KMS key, CI role."""
