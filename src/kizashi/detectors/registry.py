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
    "context": "kizashi.detectors.pattern.context:ContextDetector",
    "discord": "kizashi.detectors.pattern.discord:DiscordDetector",
    "reference": "kizashi.detectors.multivariate.reference:ReferenceDetector",
    "ensemble": "kizashi.detectors.ensemble:EnsembleDetector",
    "cnn": "kizashi.detectors.deep.cnn_detector:CnnDetector",
}

#: The detector a user gets without ``--detector`` (``kizashi detect``, ``kizashi bench``).
DEFAULT_DETECTOR = "ensemble"


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
    return cls(**_none_as_text(cls, params))


def _none_as_text(cls: type[Detector], params: dict[str, Any]) -> dict[str, Any]:
    """``None`` given to a text parameter that does not take None means the word "none".

    ``--param normalize=none`` parses to ``None``; for a parameter such as SST's
    ``normalize: str = "demean"`` (one of ``"demean"``/``"none"``) that is the text.

    >>> _none_as_text(get_class("sst"), {"normalize": None, "rank": 3})
    {'normalize': 'none', 'rank': 3}
    """
    info = {p.name: p for p in parameters(cls)}
    out = dict(params)
    for key, value in params.items():
        p = info.get(key)
        if value is None and p is not None and isinstance(p.default, str) \
                and "None" not in p.annotation:
            out[key] = "none"
    return out


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
