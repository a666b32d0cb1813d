"""Evaluation: the yardsticks the field uses, computed by code with tests.

One module per job: :mod:`~kizashi.evaluation.nab` (the NAB score),
:mod:`~kizashi.evaluation.nab_files` (NAB result files),
:mod:`~kizashi.evaluation.nab_runner` (running a detector over NAB),
:mod:`~kizashi.evaluation.pointwise` (point-wise metrics, AUC-ROC/AUC-PR),
:mod:`~kizashi.evaluation.events` (event-wise metrics, detection delay, lead time)
and :mod:`~kizashi.evaluation.vus` (VUS-ROC/VUS-PR). Import from those modules.
"""
