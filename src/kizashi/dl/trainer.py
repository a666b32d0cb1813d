"""The one training loop: optimiser, scheduler, data parallelism, checkpoints, early stopping.

Models define ``forward(inputs)`` and ``loss(outputs, targets)``; everything else is
here. The same :class:`Trainer` runs

* in one process (``world_size`` 1), or
* data-parallel under ``torchrun``: one process per rank, DistributedDataParallel
  with ``gloo`` on CPU and ``nccl`` on GPU, a :class:`DistributedSampler` giving each
  rank its share of every batch (``batch_size`` is the *global* batch: each of N
  ranks takes ``batch_size // N`` samples), gradients averaged by allreduce, and only
  rank 0 writing files.

Checkpoints (model, optimiser, scheduler, epoch and batch position, RNG states,
early-stopping state, loss history) are written atomically every
``checkpoint_every`` steps, at every epoch end and on SIGTERM, after which the run
returns cleanly; ``resume=True`` continues from the checkpoint and ends with the
same weights as an uninterrupted run (on CPU, bit for bit).

Checkpoint faults: each save keeps the checkpoint it replaces as
``checkpoint.prev.pt``; a run starts by deleting temporaries a killed save left
behind. On resume, a checkpoint that is damaged, empty, not a checkpoint, or
written for another model or config is a :class:`ValueError` naming the file and
what is wrong — unless ``checkpoint.prev.pt`` is good, which is then used with a
:class:`~kizashi.dl.checkpoint.CheckpointWarning` naming the bad file.
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
import signal
import threading
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from kizashi.dl import checkpoint as ckpt
from kizashi.integrity import with_digest

CHECKPOINT = "checkpoint.pt"
MODEL = "model.pt"
#: files written atomically into ``out_dir`` (their killed writes leave temporaries)
OUTPUTS = (CHECKPOINT, ckpt.previous_path(CHECKPOINT).name, MODEL, "config.json", "curves.csv",
           "curves.png")
#: config keys that may differ between a run and its resumption (how long, where, how loud)
RESUMABLE_KEYS = frozenset({"epochs", "device", "progress", "out", "threads", "max_steps",
                            "checkpoint_every", "patience", "min_delta", "kizashi", "search"})
#: The ``format`` of a ``config.json`` written with its ``sha256`` (:mod:`kizashi.integrity`).
RECORD_FORMAT = "kizashi-trained/1"
_CHECKPOINT_KEYS = ("model", "optimiser", "scheduler", "best_model", "loop", "rng")


class TrainingDiverged(ValueError):
    """No epoch of a run had a finite loss: there are no trained weights to keep."""


@dataclass
class TrainSettings:
    """How to train (not what): the loop's hyper-parameters.

    ``optimiser`` is ``adam``, ``adamw`` or ``sgd``; ``scheduler`` ``none``,
    ``cosine`` (over all steps) or ``step`` (``lr × gamma`` every ``step_size`` epochs'
    worth of steps). ``patience`` epochs without a better validation loss (by more
    than ``min_delta``) stop the run; ``None`` never stops early. ``max_steps`` ends
    the run after that many optimisation steps (benchmarks, tests). ``threads`` sets
    torch's intra-op CPU threads for the run (small networks are often fastest on 1,
    and much slower when the cores are shared); ``None`` keeps torch's setting.
    """

    epochs: int = 10
    batch_size: int = 64
    optimiser: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    scheduler: str = "none"
    step_size: int = 10
    gamma: float = 0.5
    seed: int = 0
    device: str = "auto"
    patience: int | None = None
    min_delta: float = 0.0
    checkpoint_every: int = 0
    max_steps: int | None = None
    progress: bool = False
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs ({self.epochs}) and batch_size ({self.batch_size}) "
                             "must be at least 1")
        if self.optimiser not in ("adam", "adamw", "sgd"):
            raise ValueError(f"optimiser {self.optimiser!r}: use adam, adamw or sgd")
        if self.scheduler not in ("none", "cosine", "step"):
            raise ValueError(f"scheduler {self.scheduler!r}: use none, cosine or step")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ValueError(f"device {self.device!r}: use auto, cpu or cuda")


@dataclass
class TrainResult:
    """What a run produced: the trained network (best validation weights), its loss history."""

    model: nn.Module
    history: list[dict[str, float]] = field(default_factory=list)
    steps: int = 0
    best_val_loss: float = math.inf
    stopped_early: bool = False
    interrupted: bool = False
    samples_seen: int = 0


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` → CUDA when present, else CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device 'cuda' asked for but torch sees no CUDA device; use --device cpu")
    return torch.device(name)


def rank_device(device: torch.device, distributed: bool | None = None) -> torch.device:
    """The GPU of this torchrun rank: ``cuda`` without an index becomes
    ``cuda:LOCAL_RANK`` (modulo the GPUs visible) under torchrun, so that N ranks on a
    node of N GPUs use one each; ``cuda:0`` alone. Other devices are returned as given."""
    if device.type != "cuda" or device.index is not None:
        return device
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0")) if world > 1 and distributed is not False \
        else 0
    return torch.device("cuda", local % max(torch.cuda.device_count(), 1))


class _Ranks:
    """This process's place among the data-parallel workers (from torchrun's env variables)."""

    def __init__(self, device: torch.device, distributed: bool | None):
        world = int(os.environ.get("WORLD_SIZE", "1"))
        self.distributed = world > 1 if distributed is None else distributed and world > 1
        self.world = world if self.distributed else 1
        self.rank = int(os.environ.get("RANK", "0")) if self.distributed else 0
        self.owns_group = False
        if self.distributed and not torch.distributed.is_initialized():
            backend = "nccl" if device.type == "cuda" else "gloo"
            torch.distributed.init_process_group(backend)
            self.owns_group = True

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def sum(self, values: list[float], device: torch.device) -> list[float]:
        if not self.distributed:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=device)
        torch.distributed.all_reduce(tensor)
        return tensor.tolist()

    def close(self) -> None:
        if self.owns_group:
            torch.distributed.destroy_process_group()


class Trainer:
    """Train ``model`` on ``(inputs, targets)`` arrays; see the module docstring.

    Parameters
    ----------
    model : torch.nn.Module
        Defines ``forward(inputs)`` and ``loss(outputs, targets)``.
    train, val : tuple of numpy arrays
        ``(inputs, targets)`` with samples along the first axis; ``val`` may be ``None``
        (early stopping then watches the training loss).
    settings : TrainSettings
    out_dir : path, optional
        Where checkpoints, ``model.pt``, ``config.json`` and the curves go (rank 0
        only); ``None`` writes nothing (in-memory fits of detectors).
    config : dict, optional
        Written as ``config.json`` beside ``model.pt``; it must say how to rebuild the
        model (the Trainer does not interpret it).
    distributed : bool, optional
        ``None`` follows torchrun's ``WORLD_SIZE``; ``False`` trains alone even under it.
    epoch_callback : callable, optional
        ``epoch_callback(epoch, train_loss, val_loss)`` after every epoch (Optuna's
        pruning hooks in here; it may raise to stop the run).
    step_callback : callable, optional
        ``step_callback(global_step)`` after every optimisation step.

    Examples
    --------
    >>> from kizashi.dl.window_autoencoder import WindowAutoencoder
    >>> x = np.random.default_rng(0).normal(size=(64, 4, 2)).astype(np.float32)
    >>> _ = torch.manual_seed(0)
    >>> result = Trainer(WindowAutoencoder(2, window=4, hidden=8, latent=2), (x, x), (x, x),
    ...                  TrainSettings(epochs=2, batch_size=16, device="cpu")).fit()
    >>> [row["epoch"] for row in result.history], result.steps
    ([1, 2], 8)
    """

    def __init__(self, model: nn.Module, train: tuple[np.ndarray, ...],
                 val: tuple[np.ndarray, ...] | None, settings: TrainSettings,
                 out_dir: str | Path | None = None, config: dict[str, Any] | None = None,
                 distributed: bool | None = None,
                 epoch_callback: Callable[[int, float, float], None] | None = None,
                 step_callback: Callable[[int], None] | None = None):
        self.model = model
        self.train = train
        self.val = val
        self.settings = settings
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.config = config
        self.distributed = distributed
        self.epoch_callback = epoch_callback
        self.step_callback = step_callback
        self._stop = False

    # ----------------------------------------------------------------- public
    def fit(self, resume: bool = False) -> TrainResult:
        """Train; with ``resume`` continue from ``out_dir/checkpoint.pt`` when it exists."""
        s = self.settings
        device = rank_device(resolve_device(s.device), self.distributed)
        if device.type == "cuda":
            torch.cuda.set_device(device)  # before nccl starts: one GPU per rank
        ranks = _Ranks(device, self.distributed)
        threads = torch.get_num_threads()
        if s.threads:
            torch.set_num_threads(int(s.threads))
        try:
            return self._fit(device, ranks, resume)
        finally:
            torch.set_num_threads(threads)
            ranks.close()

    # -------------------------------------------------------------- the loop
    def _fit(self, device: torch.device, ranks: _Ranks, resume: bool) -> TrainResult:
        s = self.settings
        torch.manual_seed(s.seed)
        model = self.model.to(device)
        wrapped: nn.Module = model
        if ranks.distributed:
            wrapped = nn.parallel.DistributedDataParallel(
                model, device_ids=[device.index] if device.type == "cuda" else None)
        inputs, targets = (torch.as_tensor(a) for a in self.train)
        n = inputs.shape[0]
        if n == 0:
            raise ValueError("no training samples: the data is shorter than one window")
        per_rank = s.batch_size // ranks.world
        if per_rank < 1:
            raise ValueError(f"batch_size {s.batch_size} is smaller than the {ranks.world} ranks")
        sampler = torch.utils.data.DistributedSampler(
            range(n), num_replicas=ranks.world, rank=ranks.rank, shuffle=True, seed=s.seed)
        steps_per_epoch = math.ceil(len(sampler) / per_rank)
        optimiser = self._optimiser(model)
        scheduler = self._scheduler(optimiser, steps_per_epoch)
        loop = {"epoch": 0, "batch": 0, "step": 0, "loss_sum": 0.0, "loss_count": 0,
                "best": math.inf, "bad_epochs": 0, "done": False, "stopped_early": False,
                "history": [], "samples": 0}
        best_state = _cpu_state(model)
        path = None if self.out_dir is None else self.out_dir / CHECKPOINT
        if path is not None and ranks.is_main:
            ckpt.remove_temporaries(path.parent, OUTPUTS)
        # keep checkpoint.pt as checkpoint.prev.pt on the next save only when it is this run's
        keep = False
        if resume and path is not None:
            restored = self._restore(path, device, model, optimiser, scheduler, loop)
            if restored is not None:
                best_state, used = restored
                keep = used == path
        elif path is not None and ranks.is_main:  # a fresh run: an older run's backup is no use
            ckpt.previous_path(path).unlink(missing_ok=True)
        config_json = (None if self.config is None or path is None
                       else json.dumps(self.config, sort_keys=True))

        def save() -> None:
            nonlocal keep
            if path is not None and ranks.is_main:
                ckpt.atomic_save({"model": model.state_dict(), "optimiser": optimiser.state_dict(),
                                  "scheduler": scheduler.state_dict(), "best_model": best_state,
                                  "loop": json.dumps(loop), "rng": ckpt.rng_states(),
                                  "config": config_json}, path, keep_previous=keep)
                keep = True

        if self.out_dir is not None and ranks.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            if self.config is not None:
                ckpt.atomic_write_text(json.dumps(_record(self.config), indent=2) + "\n",
                                       self.out_dir / "config.json")
        previous = self._catch_sigterm()
        bar = None
        if s.progress and ranks.is_main and not loop["done"]:
            from tqdm.auto import tqdm

            total = s.epochs * steps_per_epoch
            if s.max_steps:
                total = min(total, s.max_steps)
            bar = tqdm(total=total, initial=min(loop["step"], total), unit="step",
                       desc="train", dynamic_ncols=True)
        try:
            while not loop["done"] and loop["epoch"] < s.epochs:
                sampler.set_epoch(loop["epoch"])
                order = torch.tensor(list(sampler), dtype=torch.long)
                wrapped.train()
                for b in range(loop["batch"], steps_per_epoch):
                    index = order[b * per_rank:(b + 1) * per_rank]
                    x, y = inputs[index].to(device), targets[index].to(device)
                    optimiser.zero_grad(set_to_none=True)
                    loss = model.loss(wrapped(x), y)
                    loss.backward()
                    optimiser.step()
                    scheduler.step()
                    loop["loss_sum"] += float(loss.detach()) * len(index)
                    loop["loss_count"] += len(index)
                    loop["samples"] += len(index) * ranks.world
                    loop["step"] += 1
                    loop["batch"] = b + 1
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(loss=f"{float(loss.detach()):.4g}", refresh=False)
                    if self.step_callback is not None:
                        self.step_callback(loop["step"])
                    if s.checkpoint_every and loop["step"] % s.checkpoint_every == 0:
                        save()
                    if self._stop_requested(ranks, device):
                        save()
                        return self._result(model, best_state, loop, interrupted=True)
                    if s.max_steps and loop["step"] >= s.max_steps:
                        break
                self._end_epoch(model, ranks, device, loop, best_state)
                if loop["best_improved"]:
                    best_state = _cpu_state(model)
                del loop["best_improved"]
                if s.max_steps and loop["step"] >= s.max_steps:
                    loop["done"] = True
                save()
                if ranks.is_main and self.out_dir is not None:
                    write_curves(loop["history"], self.out_dir)
                if self.epoch_callback is not None:
                    row = loop["history"][-1]
                    self.epoch_callback(row["epoch"], row["train_loss"], row["val_loss"])
            loop["done"] = True
            save()
            if not math.isfinite(loop["best"]):  # every epoch's loss was inf or NaN
                last = loop["history"][-1] if loop["history"] else {}
                raise TrainingDiverged(
                    f"training diverged: no epoch had a finite loss (last: train "
                    f"{last.get('train_loss')}, validation {last.get('val_loss')}), so no "
                    "model was written; lower optimiser.lr, or check the data for huge values")
            if ranks.is_main and self.out_dir is not None:
                ckpt.atomic_save(best_state, self.out_dir / MODEL)
            model.load_state_dict(best_state)
            return self._result(model, best_state, loop, interrupted=False)
        finally:
            if bar is not None:
                bar.close()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    # ------------------------------------------------------------ checkpoints
    def _restore(self, path: Path, device: torch.device, model: nn.Module,
                 optimiser: torch.optim.Optimizer, scheduler: Any,
                 loop: dict[str, Any]) -> tuple[dict[str, Any], Path] | None:
        """Load ``path`` (else its previous copy) into the run; ``(best_state, file used)``.

        None when neither file exists (the run starts afresh). A bad ``path`` with a
        good previous copy warns and uses the copy; both bad is a ValueError naming both.
        """
        previous = ckpt.previous_path(path)
        failures: list[str] = []
        for candidate in (path, previous):
            if not candidate.exists():
                if candidate == path and previous.exists():
                    failures.append(f"checkpoint {path} is missing")
                continue
            try:
                best_state = self._apply(candidate, device, model, optimiser, scheduler, loop)
            except ValueError as error:
                failures.append(str(error))
                continue
            if failures:
                warnings.warn(f"{failures[0]}; resuming from the previous checkpoint "
                              f"{candidate} instead", ckpt.CheckpointWarning, stacklevel=4)
            return best_state, candidate
        if failures:
            tail = (f"; the previous checkpoint is no better: {failures[1]}"
                    if len(failures) > 1 else f" (and there is no {previous.name} to fall "
                                                "back to)")
            raise ValueError(f"cannot resume: {failures[0]}{tail}")
        return None

    def _apply(self, path: Path, device: torch.device, model: nn.Module,
               optimiser: torch.optim.Optimizer, scheduler: Any,
               loop: dict[str, Any]) -> dict[str, Any]:
        """Check the checkpoint at ``path`` fits this run, then load it; the best weights."""
        saved = ckpt.load(path, map_location=device)
        if not isinstance(saved, dict) or not all(k in saved for k in _CHECKPOINT_KEYS):
            found = ", ".join(map(str, saved)) if isinstance(saved, dict) else \
                type(saved).__name__
            raise ValueError(f"checkpoint {path} is not a training checkpoint (it holds "
                             f"{found[:200] or 'nothing'}; expected {', '.join(_CHECKPOINT_KEYS)})")
        stored = saved.get("config")
        if stored is not None and not isinstance(stored, str):
            raise ValueError(f"checkpoint {path}: its 'config' entry is not JSON text")
        try:
            changes = ckpt.config_changes(stored, self.config, RESUMABLE_KEYS)
        except ValueError:
            raise ValueError(f"checkpoint {path}: its 'config' entry is not valid JSON") from None
        if changes:
            raise ValueError(f"checkpoint {path} was written with another config "
                             f"({'; '.join(changes)}); resume with the config that wrote it, "
                             "or train afresh in another folder")
        ckpt.check_state_dict(saved["model"], model, path, "model")
        ckpt.check_state_dict(saved["best_model"], model, path, "best_model")
        try:
            state = json.loads(saved["loop"])
        except (TypeError, ValueError):
            raise ValueError(f"checkpoint {path}: its 'loop' entry is not JSON text") from None
        if not isinstance(state, dict) or not {"epoch", "batch", "step", "history"} <= set(state):
            raise ValueError(f"checkpoint {path}: its 'loop' entry lacks the loop position")
        try:
            model.load_state_dict(saved["model"])
            optimiser.load_state_dict(saved["optimiser"])
            scheduler.load_state_dict(saved["scheduler"])
            ckpt.set_rng_states(saved["rng"])
        except (ValueError, KeyError, TypeError, RuntimeError, IndexError) as error:
            raise ValueError(f"checkpoint {path} does not fit this run (the optimiser, scheduler "
                             f"or random state: {type(error).__name__}: "
                             f"{str(error).splitlines()[0][:160] if str(error) else ''}); "
                             "resume with the settings that wrote it, or train afresh") from None
        loop.update(state)
        return saved["best_model"]

    def _end_epoch(self, model: nn.Module, ranks: _Ranks, device: torch.device,
                   loop: dict[str, Any], best_state: dict[str, Any]) -> None:
        s = self.settings
        loss_sum, count = ranks.sum([loop["loss_sum"], float(loop["loss_count"])], device)
        train_loss = loss_sum / max(count, 1.0)
        val_loss = self._evaluate(model, ranks, device)
        watched = train_loss if val_loss is None else val_loss
        loop["history"].append({"epoch": loop["epoch"] + 1, "train_loss": train_loss,
                                "val_loss": math.nan if val_loss is None else val_loss})
        loop["best_improved"] = watched < loop["best"] - s.min_delta
        if loop["best_improved"]:
            loop["best"] = watched
            loop["bad_epochs"] = 0
        else:
            loop["bad_epochs"] += 1
            if s.patience is not None and loop["bad_epochs"] >= s.patience:
                loop["done"] = True
                loop["stopped_early"] = True
        loop["epoch"] += 1
        loop["batch"] = 0
        loop["loss_sum"] = 0.0
        loop["loss_count"] = 0

    @torch.no_grad()
    def _evaluate(self, model: nn.Module, ranks: _Ranks, device: torch.device) -> float | None:
        if self.val is None or len(self.val[0]) == 0:
            return None
        model.eval()
        inputs, targets = (torch.as_tensor(a) for a in self.val)
        mine = torch.arange(ranks.rank, inputs.shape[0], ranks.world)
        total = 0.0
        size = max(self.settings.batch_size, 256)
        for start in range(0, len(mine), size):
            index = mine[start:start + size]
            x, y = inputs[index].to(device), targets[index].to(device)
            total += float(model.loss(model(x), y)) * len(index)
        model.train()
        total, count = ranks.sum([total, float(len(mine))], device)
        return total / count

    # --------------------------------------------------------------- helpers
    def _optimiser(self, model: nn.Module) -> torch.optim.Optimizer:
        s = self.settings
        if s.optimiser == "sgd":
            return torch.optim.SGD(model.parameters(), lr=s.lr, momentum=s.momentum,
                                   weight_decay=s.weight_decay)
        cls = torch.optim.AdamW if s.optimiser == "adamw" else torch.optim.Adam
        return cls(model.parameters(), lr=s.lr, weight_decay=s.weight_decay)

    def _scheduler(self, optimiser: torch.optim.Optimizer, steps_per_epoch: int):
        s = self.settings
        if s.scheduler == "cosine":
            total = s.epochs * steps_per_epoch
            return torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(total, 1))
        if s.scheduler == "step":
            return torch.optim.lr_scheduler.StepLR(optimiser, step_size=s.step_size
                                                   * steps_per_epoch, gamma=s.gamma)
        return torch.optim.lr_scheduler.LambdaLR(optimiser, lambda _: 1.0)

    def _catch_sigterm(self):
        """On SIGTERM, finish the current step, checkpoint and return (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            return None
        self._stop = False

        def handler(signum, frame):
            self._stop = True

        return signal.signal(signal.SIGTERM, handler)

    def _stop_requested(self, ranks: _Ranks, device: torch.device) -> bool:
        if not ranks.distributed:
            return self._stop
        flag = torch.tensor([1.0 if self._stop else 0.0], device=device)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        return bool(flag.item() > 0)

    @staticmethod
    def _result(model: nn.Module, best_state: dict[str, Any], loop: dict[str, Any],
                interrupted: bool) -> TrainResult:
        return TrainResult(model=model, history=list(loop["history"]), steps=loop["step"],
                           best_val_loss=loop["best"], stopped_early=loop["stopped_early"],
                           interrupted=interrupted, samples_seen=loop["samples"])


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in copy.copy(model.state_dict()).items()}


def write_curves(history: list[dict[str, float]], out_dir: Path) -> None:
    """``curves.csv`` (epoch, train_loss, val_loss) and ``curves.png``, both atomically."""
    lines = ["epoch,train_loss,val_loss"]
    lines += [f"{int(r['epoch'])},{r['train_loss']:.9g},{r['val_loss']:.9g}" for r in history]
    ckpt.atomic_write_text("\n".join(lines) + "\n", out_dir / "curves.csv")
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3.5))
    axes = figure.subplots()
    epochs = [r["epoch"] for r in history]
    axes.plot(epochs, [r["train_loss"] for r in history], marker="o", label="train")
    axes.plot(epochs, [r["val_loss"] for r in history], marker="o", label="validation")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.set_yscale("log")
    axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    tmp = out_dir / ".curves.png.part"
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, out_dir / "curves.png")


def _record(config: Any) -> Any:
    """``config`` as ``config.json`` holds it: with its format and its SHA-256 (a dict)."""
    if not isinstance(config, dict):
        return config
    return with_digest({"format": RECORD_FORMAT, **config})


def settings_dict(settings: TrainSettings) -> dict[str, Any]:
    return asdict(settings)
