"""Reports: plots and HTML pages of series, scores and verdicts (matplotlib, imported lazily)."""
