"""Pulumi program: one environment's Databricks MLOps resources.

Only wiring: validated config in, the top component built, outputs exported. Everything that
differs between environments is in ``Pulumi.<stack>.yaml``.
"""

import pulumi

from mlops_resources.config.load import load_config
from mlops_resources.databricks.stack import MlopsStack

config = load_config()
stack = MlopsStack("mlops", config)

# One model: its outputs, as they always were; several (mlops:models): "models", a map of
# model key -> that model's outputs under the same names.
for output, value in stack.outputs.items():
    pulumi.export(output, value)
