"""The type of every ``--seed`` option: a whole number numpy and Optuna take as a seed.

numpy's generators refuse a negative seed and its legacy ``RandomState`` (which Optuna's
samplers use) one of 2**32 or more; refused by click, the error is one line naming
``--seed`` before any work, not an internal error after the work began.

>>> SEED.convert("7", None, None)
7
>>> SEED.convert("-1", None, None)
Traceback (most recent call last):
...
click.exceptions.BadParameter: -1 is not in the range 0<=x<=4294967295.
"""

from __future__ import annotations

import click

#: the largest seed every generator the commands use accepts
MAX_SEED = 2**32 - 1

SEED = click.IntRange(0, MAX_SEED)
