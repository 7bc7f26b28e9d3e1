"""Entry point of the policy pack for the Pulumi engine: the policies of
``mlops_resources.policies``, nothing else (README, "Policies")."""

import sys
from pathlib import Path

# The policies live in the repository's mlops_resources package, one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from mlops_resources.policies import PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, policies=POLICIES)
