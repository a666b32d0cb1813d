"""Entry point of the ``kizashi`` command: a click group whose sub-commands load lazily.

Each sub-command lives in its own module; the table below names them, so
``kizashi --help`` stays fast and a command's heavy imports (torch, the web
stack) happen only when that command runs.
"""

from __future__ import annotations

import click

from kizashi import __version__
from kizashi.lazy import import_target

#: command name → ("module:function", one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "detect": ("kizashi.cli.detect:detect", "Score a file of metric series and flag anomalies."),
    "detectors": ("kizashi.cli.detect:list_detectors", "List the registered detectors."),
    "demo": ("kizashi.cli.demo:demo", "Generate cluster telemetry with incidents and report."),
    "watch": ("kizashi.cli.watch:watch", "Watch Prometheus online: alerts, metrics, dashboard."),
    "bench": ("kizashi.cli.bench:bench", "Score detectors on public benchmarks (NAB, SMD)."),
    "train": ("kizashi.cli.train:train", "Train a deep model from a config (torchrun-ready)."),
    "tune": ("kizashi.cli.tune:tune", "Search hyper-parameters of a training config with Optuna."),
    "predict": ("kizashi.cli.predict:predict", "Warn before a limit: probability and ETA."),
    "fit": ("kizashi.cli.fit:fit", "Fit the default detector on training rows, for watch."),
}


class LazyGroup(click.Group):
    """A click group that imports a sub-command only when it is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        return import_target(COMMANDS[cmd_name][0])

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        from kizashi.cli.errors import guarded

        return guarded(lambda: super(LazyGroup, self).make_context(info_name, args, parent,
                                                                   **extra))

    def invoke(self, ctx: click.Context):
        from kizashi.cli.errors import guarded

        return guarded(lambda: super(LazyGroup, self).invoke(ctx))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kizashi")
def cli() -> None:
    """kizashi (兆し, "early sign"): find and predict anomalies in computing-centre telemetry."""


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
