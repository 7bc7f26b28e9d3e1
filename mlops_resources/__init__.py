"""The mlops Pulumi programs' code, by concern.

- ``config``: reading and validating stack files (one module per program, shared machinery
  and value checks apart);
- ``databricks``: the components the ``mlops`` stacks declare (experiment, model, jobs, grants);
- ``aws``: the components of ``bootstrap/`` (state bucket, KMS keys, CI roles);
- ``policies``: the CrossGuard policy pack both programs run (``policy/`` serves it), and the
  rules over every committed stack file that the offline ``check`` adds;
- ``offline``: evaluating a program under mocks, and the ``python -m mlops_resources`` commands;
- ``delivery``: the ``smoke`` command, the one tool that talks to a workspace.
"""

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
"""The repository root: stack files, ``__main__.py`` and ``notebooks/`` are relative to it."""
