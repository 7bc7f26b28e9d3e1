"""Offline tools, none of which calls a provider: evaluate a program under mocks
(``evaluation``), and on top of it the ``python -m mlops_resources`` commands (``cli``):
``render`` and ``diff`` of the declared resources, ``check`` (the policy pack over a render,
plus the cross-stack rules), ``init`` (a team's files from its answers: ``templates``; a
personal dev stack file: ``init``) and the generated reference tables (``reference``)."""
