"""Deep-learning models and the one training engine that trains them (extra ``[dl]``).

Nothing here is imported by ``import kizashi``: torch loads only when a deep
detector, ``kizashi train`` or ``kizashi tune`` runs.

* :mod:`kizashi.dl.lstm_forecaster`, :mod:`kizashi.dl.window_autoencoder`,
  :mod:`kizashi.dl.cnn_forecaster` — the networks: each defines ``forward``, ``loss``
  and how its training samples are cut;
* :mod:`kizashi.dl.trainer` — :class:`~kizashi.dl.trainer.Trainer`, which owns the loop:
  optimiser, scheduler, DistributedDataParallel, checkpoints, SIGTERM, early stopping,
  loss curves;
* :mod:`kizashi.dl.config` / :mod:`kizashi.dl.experiment` — YAML/TOML run configs and
  ``kizashi train``; :mod:`kizashi.dl.tuning` — ``kizashi tune`` (Optuna).
"""

#: network name → "module:Class", imported lazily (as the detector registry does)
NETWORKS: dict[str, str] = {
    "lstm": "kizashi.dl.lstm_forecaster:LstmForecaster",
    "autoencoder": "kizashi.dl.window_autoencoder:WindowAutoencoder",
    "cnn": "kizashi.dl.cnn_forecaster:CnnForecaster",
}


def network_class(name: str):
    """The network class registered as ``name``."""
    from kizashi.lazy import import_target

    try:
        target = NETWORKS[name]
    except KeyError:
        known = ", ".join(sorted(NETWORKS))
        raise ValueError(f"unknown network {name!r}; known: {known}") from None
    return import_target(target)
