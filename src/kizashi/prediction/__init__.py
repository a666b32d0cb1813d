"""Prediction: warnings ahead of a failure, with a probability and an ETA.

``local_fit`` (rolling least-squares fits as filters), ``limit_forecaster``
(trend + daily-seasonal forecasts with realised-error bands, and the chance
of crossing a limit within a horizon), ``calibration`` (an isotonic map of that
chance to a probability), ``envelope`` (anomaly ahead for series without a limit),
``predictor`` (a whole frame: what ``kizashi predict`` writes) and
``predict_linear`` (Prometheus' rule, the baseline).
"""
