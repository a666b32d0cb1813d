"""Names for detectors: an explicit alias → ``"module:Class"`` table, imported lazily.

Adding a detector means adding one line here. The CLI, configs and the
conformance suite all read this table.

>>> from kizashi.detectors.registry import create
>>> create("threshold")
RollingSigmaThreshold(window=288, k=3.0, min_periods=30, min_std=None, clip=10.0)
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from kizashi.detectors.base import Detector
from kizashi.lazy import import_target

DETECTORS: dict[str, str] = {
    "threshold": "kizashi.detectors.threshold.rolling_sigma:RollingSigmaThreshold",
    "static_threshold": "kizashi.detectors.threshold.static:StaticThreshold",
    "sigma_threshold": "kizashi.detectors.threshold.rolling_sigma:RollingSigmaThreshold",
    "quantile_threshold": "kizashi.detectors.threshold.rolling_quantile:RollingQuantileThreshold",
    "seasonal_threshold": "kizashi.detectors.threshold.seasonal:SeasonalThreshold",
    "range_rule": "kizashi.detectors.threshold.range_rule:RangeRule",
    "sst": "kizashi.detectors.changepoint.singular_spectrum:SingularSpectrumTransform",
    "changefinder": "kizashi.detectors.changepoint.change_finder:ChangeFinder",
    "lstm": "kizashi.detectors.deep.lstm_detector:LstmDetector",
    "autoencoder": "kizashi.detectors.deep.autoencoder_detector:AutoencoderDetector",
    "peers": "kizashi.detectors.peers.peer_deviation:PeerDeviation",
}


@dataclass(frozen=True)
class ParamInfo:
    """One constructor parameter of a detector."""

    name: str
    default: Any
    annotation: str


def names() -> list[str]:
    """All registered detector names."""
    return list(DETECTORS)


def get_class(name: str) -> type[Detector]:
    """The detector class registered as ``name``."""
    try:
        target = DETECTORS[name]
    except KeyError:
        known = ", ".join(sorted(DETECTORS))
        raise ValueError(f"unknown detector {name!r}; known detectors: {known}") from None
    return import_target(target)


def create(name: str, **params: Any) -> Detector:
    """A fresh detector ``name`` with ``params`` (unknown parameters are an error)."""
    cls = get_class(name)
    accepted = {p.name for p in parameters(cls)}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(
            f"detector {name!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters are: {', '.join(sorted(accepted)) or '(none)'}"
        )
    return cls(**params)


def parameters(cls: type[Detector]) -> list[ParamInfo]:
    """The constructor parameters of a detector class, with their defaults."""
    out = []
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        default = None if p.default is inspect.Parameter.empty else p.default
        annotation = p.annotation if isinstance(p.annotation, str) else getattr(
            p.annotation, "__name__", str(p.annotation)
        )
        out.append(ParamInfo(p.name, default, annotation))
    return out


def parse_param(text: str) -> tuple[str, Any]:
    """Parse a ``key=value`` command-line parameter; the value becomes a number,
    a boolean, ``None`` or stays a string.

    >>> parse_param("k=3"), parse_param("solver=krylov"), parse_param("high=1e3")
    (('k', 3), ('solver', 'krylov'), ('high', 1000.0))
    """
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"parameter {text!r} is not of the form key=value")
    raw = raw.strip()
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return key.strip(), lowered == "true"
    if lowered in ("none", "null"):
        return key.strip(), None
    for convert in (int, float):
        try:
            return key.strip(), convert(raw)
        except ValueError:
            pass
    return key.strip(), raw
