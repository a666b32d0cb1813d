"""``kizashi tune``: Optuna search over a training config, shared by many workers.

Every worker runs the same command against one storage URL (e.g.
``sqlite:///study.db``); together they finish exactly ``trials`` trials (complete
or pruned):

* a worker takes the next trial only while fewer than ``trials`` are finished,
  running or waiting; on SQLite the count and the new trial are made under a file
  lock beside the database, so workers neither lose nor duplicate trials;
* trials of a killed worker stop sending heartbeats, are marked failed and are
  re-queued with the same parameters; a study is resumed by running the command
  again;
* every epoch reports its validation loss; the median pruner stops trials worse
  than the median of earlier ones at the same epoch.

The search space is the config's ``search`` section, dotted keys into the config::

    search:
      optimiser.lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}
      model.hidden: {type: int, low: 16, high: 128, log: true}
      model.window: {type: categorical, choices: [5, 10, 20]}
"""

from __future__ import annotations

import fcntl
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kizashi.dl.config import RunConfig

DEFAULT_SPACE = {"optimiser.lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True}}


@dataclass
class TuneSummary:
    """What the study holds after this worker stops."""

    study_name: str
    finished: int
    complete: int
    pruned: int
    best_value: float | None
    best_params: dict[str, Any]
    ran_here: int


class _StudyLock:
    """An exclusive lock file beside a SQLite database (no-op for other storages)."""

    def __init__(self, storage: str):
        self.path = None
        if storage.startswith("sqlite:///"):
            self.path = Path(storage[len("sqlite:///"):] + ".lock")
        self.handle = None

    def acquire(self) -> None:
        if self.path is not None and self.handle is None:
            self.handle = open(self.path, "a")
            fcntl.flock(self.handle, fcntl.LOCK_EX)

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def suggest(trial: Any, key: str, spec: dict[str, Any]) -> Any:
    """One value for ``key`` from a search-space entry."""
    kind = spec.get("type", "float")
    if kind == "float":
        return trial.suggest_float(key, float(spec["low"]), float(spec["high"]),
                                   log=bool(spec.get("log", False)))
    if kind == "int":
        return trial.suggest_int(key, int(spec["low"]), int(spec["high"]),
                                 log=bool(spec.get("log", False)))
    if kind == "categorical":
        return trial.suggest_categorical(key, list(spec["choices"]))
    raise ValueError(f"search.{key}: type must be float, int or categorical, got {kind!r}")


def open_study(storage: str, study_name: str, seed: int | None = None):
    """Create or load the study (minimise validation loss, median pruning)."""
    import optuna
    from optuna.storages import RDBStorage

    retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    if storage.startswith(("sqlite:", "postgresql", "mysql")):
        connect = {"timeout": 120} if storage.startswith("sqlite:") else {}
        if retry is not None:
            callback = {"heartbeat_stale_trial_callback": retry(max_retry=2)}
        else:  # optuna < 4.9
            callback = {"failed_trial_callback":
                        optuna.storages.RetryFailedTrialCallback(max_retry=2)}
        store: Any = RDBStorage(storage, heartbeat_interval=5, grace_period=30,
                                engine_kwargs={"connect_args": connect}, **callback)
    else:
        store = storage
    return optuna.create_study(
        study_name=study_name, storage=store, load_if_exists=True, direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=4),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1))


def tune(config: RunConfig, trials: int, storage: str, study_name: str,
         out_dir: str | Path | None = None, seed: int | None = None) -> TuneSummary:
    """Run trials until the study holds ``trials`` finished ones; see the module docstring."""
    import optuna
    from optuna.trial import TrialState

    from kizashi.dl.experiment import train_from_config
    from kizashi.dl.trainer import TrainingDiverged

    if trials < 1:
        raise ValueError(f"--trials must be at least 1, got {trials}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    space = config.search or DEFAULT_SPACE
    from kizashi.dl.config_values import check_search

    check_search(space, config.source, config)  # before a study is opened
    database = storage.split("?")[0]
    if database.startswith("sqlite:") and database.removeprefix("sqlite:").strip("/") in (
            "", ":memory:"):
        raise ValueError(f"--storage {storage}: a study in memory is neither shared with other "
                         "workers nor kept (and its trials' heartbeats fail): give a database "
                         "file, such as sqlite:///study.db")
    lock = _StudyLock(storage)
    lock.acquire()  # workers starting together must not create the tables twice
    try:
        study = open_study(storage, study_name, seed)
    except Exception as error:  # sqlalchemy's and optuna's errors, without importing them
        if not type(error).__module__.startswith(("sqlalchemy", "optuna", "sqlite3")) \
                and not isinstance(error, (ValueError, OSError, ImportError)):
            raise
        reason = " ".join(str(error).split("(Background on this error")[0].split())
        # the URL, its driver or the file behind it (the database's own errors, a missing
        # driver, an unreadable path) earn the hint; a study's own reasons (another
        # direction, say) are said as they are
        about_url = type(error).__module__.startswith(("sqlalchemy", "sqlite3")) \
            or isinstance(error, (OSError, ImportError))
        hint = ("; give an Optuna storage URL such as sqlite:///study.db of a database file "
                "(or a new file)") if about_url else ""
        raise ValueError(f"--storage {storage}: cannot open the study there ({reason})"
                         f"{hint}") from None
    finally:
        lock.release()
    counted = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
    ran = 0

    def objective(trial: Any) -> float:
        lock.release()  # the trial exists now: let the other workers count it
        values = {key: suggest(trial, key, spec) for key, spec in space.items()}
        run = config.with_values({**values, "progress": False})

        def report(epoch: int, train_loss: float, val_loss: float) -> None:
            trial.report(val_loss if math.isfinite(val_loss) else train_loss, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()

        where = None if out_dir is None else Path(out_dir) / f"trial-{trial.number:04d}"
        try:
            result = train_from_config(run, where, distributed=False, epoch_callback=report,
                                       progress=False)
        except TrainingDiverged:  # a trial whose values diverge is the worst, not an error
            return math.inf
        return float(result.best_val_loss)

    while True:
        lock.acquire()
        try:
            optuna.storages.fail_stale_trials(study)
            if len(study.get_trials(deepcopy=False, states=counted)) >= trials:
                break
            study.optimize(objective, n_trials=1, catch=())
            ran += 1
        finally:
            lock.release()
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    complete = [t for t in done if t.state == TrialState.COMPLETE]
    best = min(complete, key=lambda t: t.value) if complete else None
    return TuneSummary(study_name=study_name, finished=len(done), complete=len(complete),
                       pruned=len(done) - len(complete),
                       best_value=None if best is None else best.value,
                       best_params={} if best is None else dict(best.params), ran_here=ran)


def worker_id() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"
