"""A fitted multivariate detector saved to a folder once, and loaded back without pickle.

``kizashi fit TRAIN --out DIR`` fits the default ensemble on an entity's training
rows (its fixed reference and the causes' deviation model) and writes it here;
``kizashi watch`` then names the folder (``model: DIR``) and loads it at start,
so the daemon stores only the stream part of the state each tick and the
fitted part once.

The folder holds two files:

* ``config.json`` — the record: ``format``, ``network`` (the detector's
  registry name, as for a ``kizashi train`` folder), ``params``, ``features``
  (the metric names in the order the model takes them), ``entity``,
  ``model_key`` (a hash of the saved state) and ``tree`` (the state's
  structure, with each array replaced by its name in ``model.npz``);
* ``model.npz`` — the state's arrays, read with ``allow_pickle=False``: the
  file can hold numbers only, never code; and a copy of the record's ``params`` and
  ``features`` as they were fitted (``__fitted__``, UTF-8 JSON bytes), so that the
  ``model_key`` covers them too.

``config.json`` stays readable and editable, but a parameter edited by hand no longer
loads silently: :func:`load_fitted` refuses, in one line naming the file and the
parameter, any params or features that differ from those fitted (a window of 288 edited
to 288.0, 288.5, 289, true or "288"), and checks every parameter as ``--param`` would
(a float or a bool where a whole number belongs, a negative or out-of-range count,
a quoted number) before the detector's own validation steps it. A folder written
before the copy was kept (its ``model_key`` covers the state only) is still loaded,
with these checks of the params alone.

Both are written under temporary names and renamed into place, ``model.npz``
first: a fit killed half way leaves the previous model whole or a ``config.json``
whose ``model_key`` does not match, which :func:`load_fitted` refuses.

Each file carries its own SHA-256 (:mod:`kizashi.integrity`): ``config.json`` that of
its canonical JSON as ``sha256`` (a ``runtime_params`` parameter left out: it may be
edited), ``model.npz`` that of its bytes in the zip comment. A file changed on disk
(a flipped bit, an overwrite, a cut, appended bytes) is refused in one line naming it.

Examples
--------
>>> import tempfile
>>> rng = np.random.default_rng(0)
>>> train = rng.normal(0, 1, (600, 3))
>>> detector = fit_detector("ensemble", train, None, {"window": 50})
>>> folder = tempfile.mkdtemp()
>>> key = save_fitted(detector, folder, ["cpu", "mem", "io"], entity="node1")
>>> back, record = load_fitted(folder)
>>> record["features"], back.state_["weights_key"] == key
(['cpu', 'mem', 'io'], True)
>>> test = rng.normal(0, 1, (40, 3))
>>> bool(np.array_equal(back.score(test), detector.score(test), equal_nan=True))
True
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from kizashi.detectors.base import STATE_FORMAT_VERSION, Detector
from kizashi.integrity import append_zip_digest, check_record, check_zip, with_digest
from kizashi.state import from_json_safe, to_json_safe

__all__ = ["ARRAYS", "FORMAT", "RECORD", "check_fittable", "fit_detector", "is_fitted",
           "load_fitted", "save_fitted"]

#: The record's ``format``: a folder of :func:`save_fitted` (``/2``: the record carries its
#: ``sha256`` and ``model.npz`` its zip-comment digest, :mod:`kizashi.integrity`).
FORMAT = "kizashi-fitted/2"
#: The formats :func:`load_fitted` reads: ``/1`` was written before the digests.
FORMATS = ("kizashi-fitted/1", FORMAT)
RECORD = "config.json"
ARRAYS = "model.npz"
#: The state key that names the fitted model (as a trained network's ``weights_key``).
KEY = "weights_key"
_ARRAY = "__array__"
#: The array of ``model.npz`` that keeps the fitted ``params`` and ``features`` (JSON bytes).
FITTED = "__fitted__"


def is_fitted(record: Any) -> bool:
    """True for the ``config.json`` of a :func:`save_fitted` folder."""
    return isinstance(record, dict) and record.get("format") in FORMATS


def check_fittable(name: str, params: dict[str, Any] | None = None) -> Detector:
    """Registry detector ``name`` built with ``params``, if it can be fitted ahead.

    Raises
    ------
    ValueError
        For a detector that learns online (or is trained with ``kizashi train``).
    """
    from kizashi.detectors.registry import create

    detector = create(name, **dict(params or {}))
    if not detector.multivariate or KEY not in type(detector).model_keys:
        raise ValueError(f"detector {name!r} is not fitted ahead: only a multivariate "
                         "detector with a fitted part is (the default, 'ensemble'); deep "
                         "models are trained with `kizashi train`")
    return detector


def fit_detector(name: str, values: np.ndarray, timestamps: np.ndarray | None,
                 params: dict[str, Any] | None = None) -> Detector:
    """Registry detector ``name`` with ``params``, fitted on ``values`` (time × metrics).

    Only a multivariate detector whose fitted part is kept apart from its stream
    (``weights_key`` among its ``model_keys``) can be saved this way; the others learn
    online in ``kizashi watch`` and need no fitting.
    """
    detector = check_fittable(name, params)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] < 2:
        count = values.shape[1] if values.ndim == 2 else 1
        raise ValueError(f"fitting {name!r} needs at least 2 metrics of the entity (its model "
                         f"relates them), got {count}; give a file with more of its metrics")
    if not np.isfinite(values).any(axis=1).any():
        raise ValueError(f"fitting {name!r}: the training rows hold no values")
    detector.fit(values, timestamps)
    return detector


def save_fitted(detector: Detector, out_dir: str | os.PathLike[str], features: list[str],
                **about: Any) -> str:
    """Write ``detector``'s fitted state to ``out_dir``; returns the model key.

    ``features`` name the columns the detector was fitted on, in order;
    ``about`` (the entity, the training file, ...) goes into the record as it is.
    """
    if detector.state_ is None:
        raise ValueError("the detector is not fitted")
    state = {k: v for k, v in detector.state_.items() if k != KEY}
    if len(features) != int(state.get("n_series", -1)):
        raise ValueError(f"{len(features)} feature names for a detector of "
                         f"{state.get('n_series')} inputs")
    # a model that cannot step is never written (e.g. a bogus timezone the fit never read)
    _check_steps(detector, str(out_dir), why="check the detector's parameters (--param)")
    params = to_json_safe(detector.get_params())
    _check_params(type(detector), params, "the detector's parameter",
                  why="check the detector's parameters (--param)")
    arrays: dict[str, np.ndarray] = {}
    tree = _flatten(state, (), arrays)
    if FITTED in arrays:
        raise ValueError(f"the detector's state holds an array named {FITTED!r}")
    arrays[FITTED] = _fitted_bytes(params, list(features))
    key = _model_key(tree, arrays)
    from kizashi.detectors.registry import DETECTORS

    network = next((n for n, target in DETECTORS.items()
                    if target.endswith(":" + type(detector).__name__)), type(detector).__name__)
    record = with_digest({"format": FORMAT, "network": network,
                          "detector": type(detector).__name__, "params": params,
                          "features": list(features), "model_key": key, **about, "tree": tree},
                         _editable(type(detector)))
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomic(folder / ARRAYS, lambda handle: (np.savez(handle, **arrays), handle.flush(),
                                                   append_zip_digest(handle)))
    _write_atomic(folder / RECORD, lambda handle: handle.write(
        json.dumps(record, indent=1, sort_keys=True).encode("utf-8")))
    detector.state_[KEY] = key
    return key


def load_fitted(out_dir: str | os.PathLike[str], **params: Any) -> tuple[Detector, dict[str, Any]]:
    """The detector saved in ``out_dir`` and its record.

    ``params`` may repeat the saved parameters; a different value is refused (a
    state fitted with other parameters would not mean the same): fit again.
    """
    from kizashi.detectors.registry import get_class

    folder = Path(out_dir)
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{folder / RECORD}: cannot read ({error}); give a folder written "
                         "by `kizashi fit TRAIN --out DIR`") from None
    if not is_fitted(record):
        raise ValueError(f"{folder / RECORD}: not a `kizashi fit` record (format "
                         f"{record.get('format') if isinstance(record, dict) else None!r})")
    _check_record(record, folder / RECORD)
    saved = from_json_safe(record["params"])
    for name, value in params.items():
        if name in saved and from_json_safe(to_json_safe(value)) != saved[name]:
            raise ValueError(f"{folder}: fitted with {name}={saved[name]!r}, the config asks "
                             f"for {value!r}; fit again with that parameter")
    try:
        cls = get_class(record["network"])
    except ValueError as error:  # (unknown detector)
        raise ValueError(f"{folder / RECORD}: 'network': {error}; fit again") from None
    try:
        detector = cls(**{**saved, **params})
    except TypeError as error:  # a record edited by hand, or of another detector
        raise ValueError(f"{folder / RECORD}: its params do not fit detector "
                         f"{record['network']!r} ({error}); fit again") from None
    arrays = _load_arrays(folder / ARRAYS)
    if _model_key(record["tree"], arrays) != record["model_key"]:
        raise ValueError(f"cannot load {folder / ARRAYS}: it does not match the model_key of "
                         f"{folder / RECORD} (a fit cut short, or a changed file); fit again")
    state = _unflatten(record["tree"], arrays)
    n_inputs = state.get("n_series") if isinstance(state, dict) else None
    if isinstance(n_inputs, int) and n_inputs != len(record["features"]):
        raise ValueError(f"{folder / RECORD}: names {len(record['features'])} features for a "
                         f"model of {n_inputs} inputs; fit again")
    if FITTED in arrays:  # (a folder of an older kizashi has no copy: its params are checked)
        _check_as_fitted(record, arrays[FITTED], type(detector), folder)
    _check_params(type(detector), record["params"], f"{folder / RECORD}: params",
                  why="edited by hand? fit again")
    # last, so that an edited parameter is named by the checks above
    check_record(record, folder / RECORD, "fit again", required=record["format"] == FORMAT,
                 editable=_editable(type(detector)))
    try:
        detector.load_state_dict({"format": STATE_FORMAT_VERSION,
                                  "detector": type(detector).__name__,
                                  "params": record["params"], "state": state})
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"{folder}: the saved state does not load ({error}); fit again"
                         ) from None
    detector.state_[KEY] = record["model_key"]
    _check_steps(detector, folder / RECORD)
    return detector, record


def _editable(cls: type[Detector]) -> list[tuple[str, ...]]:
    """The record's entries that may be edited by hand: the ``runtime_params``."""
    return [("params", name) for name in cls.runtime_params]


def _load_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of ``model.npz``, its digest checked first; one line naming the file.

    numpy and zipfile raise many kinds for a damaged archive (a zip header's compression
    method or version, an array header that does not parse, a size that does not fit):
    each is a ``ValueError`` here.
    """
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ValueError(f"cannot load {path}: {error.strerror or error}; fit again") from None
    if size == 0:
        raise ValueError(f"cannot load {path}: it is empty (0 bytes); fit again")
    check_zip(path, "model file", "fit again")
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except MemoryError:
        raise ValueError(f"cannot load {path}: it names arrays too large to hold (damaged?); "
                         "fit again") from None
    except Exception as error:  # numpy, zipfile, tokenize: any is a damaged file here
        text = " ".join(str(error).split())[:200]
        reason = "not an archive of number arrays (kizashi never loads pickled data)" \
            if "pickle" in text else f"{type(error).__name__}: {text}" if text \
            else type(error).__name__
        raise ValueError(f"cannot load {path}: {reason}; fit again") from None


def _check_steps(detector: Detector, path: Path | str,
                 why: str = "its params were changed by hand or by another version: fit again"
                 ) -> None:
    """Score a few synthetic steps on a copy: a record whose params were edited into
    values the detector cannot run with (``window: "abc"``, ``across: foo``) is refused
    here, in one line, not at the first tick of the daemon that serves it."""
    import copy
    import warnings

    n = int(detector.state_.get("n_series", 1) or 1) if isinstance(detector.state_, dict) \
        else 1
    steps = np.arange(4, dtype=np.float64)
    rows = np.repeat((10.0 + np.sin(steps))[:, None], n, axis=1)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            trials = [copy.deepcopy(detector)]            # as saved
            if not detector.requires_training:             # and fresh (its parts built anew)
                trials.append(detector.clone().reset(n))
            for trial in trials:
                trial.update_many(rows, timestamps=1_700_000_000.0 + 60.0 * steps)
    except Exception as error:  # any failure here would fail every step of the model
        raise ValueError(f"{path}: the model fails on a test step ({type(error).__name__}: "
                         f"{' '.join(str(error).split())[:300]}); {why}") from None


def _fitted_bytes(params: dict[str, Any], features: list[str]) -> np.ndarray:
    """The fitted ``params`` and ``features`` as UTF-8 JSON bytes, an array of ``model.npz``."""
    text = json.dumps({"params": params, "features": features}, sort_keys=True)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()


def _same_json(a: Any, b: Any) -> bool:
    """JSON values equal in kind as well as value: ``288`` is not ``288.0`` nor ``true``."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _check_as_fitted(record: dict[str, Any], copy: np.ndarray, cls: type[Detector],
                     folder: Path) -> None:
    """Refuse a record whose params or features differ from those the model was fitted
    with (kept in ``model.npz``, under the ``model_key``), naming the first that does.

    Parameters that only choose how scores are computed (``runtime_params``, e.g. a
    network's inference backend) may differ.
    """
    path = folder / RECORD
    try:
        fitted = json.loads(np.asarray(copy, dtype=np.uint8).tobytes().decode("utf-8"))
        params, features = fitted["params"], fitted["features"]
    except (ValueError, TypeError, KeyError):
        raise ValueError(f"{folder / ARRAYS}: its {FITTED!r} is not the fitted params; "
                         "fit again") from None
    if not _same_json(record["features"], features):
        raise ValueError(f"{path}: features are {record['features']!r}, the model was fitted "
                         f"on {features!r} (kept in {ARRAYS}); edited by hand? fit again")
    runtime = set(cls.runtime_params)
    for name in sorted(set(params) | set(record["params"])):
        if name in runtime:
            continue
        if name not in record["params"]:
            raise ValueError(f"{path}: params lack {name!r}, fitted with {name}="
                             f"{json.dumps(params[name])} (kept in {ARRAYS}); edited by hand? "
                             "fit again")
        if name not in params:
            raise ValueError(f"{path}: params has {name!r}, which the model was not fitted "
                             f"with; edited by hand? fit again")
        if not _same_json(record["params"][name], params[name]):
            raise ValueError(f"{path}: params {name} is {json.dumps(record['params'][name])}, "
                             f"the model was fitted with {json.dumps(params[name])} (kept in "
                             f"{ARRAYS}); edited by hand? fit again")


def _check_params(cls: type[Detector], params: dict[str, Any], at: str, why: str) -> None:
    """Each of ``params`` (as JSON) checked as ``--param`` checks a user's value, strictly:
    a whole number must be written as one (``288``, never ``288.0``: `kizashi fit` writes
    ints), and a tuple of counts holds whole numbers only. One line naming the parameter.
    """
    from kizashi.detectors.param_checks import check_param
    from kizashi.detectors.registry import parameters

    declared = {p.name: p for p in parameters(cls)}
    for name, raw in params.items():
        info = declared.get(name)
        if info is None:
            continue  # (the constructor names it)
        value = from_json_safe(raw)
        kinds = {t.strip() for t in str(info.annotation).split("|")}
        if isinstance(value, list):  # a tuple of counts (the ensemble's reference_window)
            whole = any(k.startswith("tuple[int") for k in kinds) and all(
                isinstance(v, int) and not isinstance(v, bool) for v in value)
        else:
            whole = not (isinstance(value, float) and "int" in kinds and "float" not in kinds)
        if not whole:
            raise ValueError(f"{at} {name} must be a whole number written as one, got "
                             f"{json.dumps(raw)}; {why}")
        try:
            check_param(value, info, f"{at} {name}")
        except ValueError as error:
            raise ValueError(f"{error}; {why}") from None


def _check_record(record: dict[str, Any], path: Path) -> None:
    """Refuse a record whose parts are missing or of the wrong kind (one line naming it)."""
    for key, kind in (("network", str), ("params", dict), ("features", list),
                      ("model_key", str), ("tree", dict)):
        if not isinstance(record.get(key), kind):
            raise ValueError(f"{path}: {key!r} is missing or not a {kind.__name__}; fit again")
    features = record["features"]
    if (not all(isinstance(f, str) and f.strip() for f in features)
            or len(set(features)) != len(features)):
        raise ValueError(f"{path}: 'features' must be distinct metric names, got {features!r}; "
                         "fit again")


def _flatten(node: Any, path: tuple[str, ...], arrays: dict[str, np.ndarray]) -> Any:
    """``node`` with every array moved into ``arrays`` under its path (``a/b/c``)."""
    if isinstance(node, dict):
        return {str(k): _flatten(v, (*path, str(k)), arrays) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_flatten(v, (*path, str(i)), arrays) for i, v in enumerate(node)]
    if isinstance(node, np.ndarray):
        if node.dtype == object:
            raise TypeError("object arrays cannot be part of a saved model")
        name = "/".join(path)
        arrays[name] = np.ascontiguousarray(node)
        return {_ARRAY: name}
    return to_json_safe(node)


def _unflatten(node: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(node, dict) and _ARRAY in node:
        try:
            return np.array(arrays[node[_ARRAY]])
        except KeyError:
            raise ValueError(f"the saved model lacks array {node[_ARRAY]!r}") from None
    if isinstance(node, dict) and not any(k.startswith("__") for k in node):
        return {k: _unflatten(v, arrays) for k, v in node.items()}
    if isinstance(node, list):
        return [_unflatten(v, arrays) for v in node]
    return from_json_safe(node)


def _model_key(tree: Any, arrays: dict[str, np.ndarray]) -> str:
    """A hash of the state's structure and every array's dtype, shape and bytes."""
    digest = hashlib.sha256(json.dumps(tree, sort_keys=True).encode("utf-8"))
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def _write_atomic(path: Path, write: Any) -> None:
    """Write ``path`` through a temporary file, synced, then renamed over it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w+b") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
