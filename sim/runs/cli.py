"""Command line: ``python -m sim [group=option ...] [key=value ...]`` (Hydra).

``python -m sim --help`` lists the config groups (community presets, policies) and every
parameter with its unit and range.  ``python -m sim -m ...`` runs a sweep (Hydra multirun, joblib
launcher by default): see :mod:`sim.runs.sweep`.

:func:`main` checks the command line before Hydra sees it (:func:`sim.settings.overrides.check_overrides`:
every key against the schema, every option against the shipped files, every value against its
type and range), so bad input is refused with one line naming the key, before any folder exists.
What only shows once the config is built (more households than residents, an interpolation of the
job's own Hydra settings) is refused inside the run, which then removes the folder Hydra made.

Exit status of ``python -m sim``:

* 0 — the run finished;
* 2 — the command line was refused or the run could not start: nothing ran, no folder is left
  (also when the run folder already holds a finished run and ``overwrite=true`` is not given);
* 3 — the run started and failed (for instance the disk was full); its partial files are removed; a sweep:
  some jobs failed, or an error stopped it after some jobs had run;
* 130 — interrupted (Ctrl-C); the partial run is removed;
* 1 — an unexpected error (a bug), shown with its traceback.

A sweep (``-m``) uses the same codes, and 4 when its runs finished but collation failed (:mod:`sim.runs.sweep`).
"""

from __future__ import annotations

import logging
import os
import string
import sys
from importlib.resources import files
from pathlib import Path

import hydra
from hydra._internal.utils import get_args_parser  # the parser hydra.main uses: flags split exactly as Hydra does
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.runs.exit_codes import EXIT_JOBS_FAILED, EXIT_NOT_STARTED
from sim.settings.config import ConfigError, parameter_table, register_configs
from sim.settings.overrides import check_overrides

# The run's machinery (sim.runs.runner, .sweep, .outputs, sim.tables.kpi_table) is imported where it is used, not
# here: it brings pandas and the model (mesa), which ``python -m sim --help`` does not need (tests/test_cli_help.py,
# benchmarks/cli_help.py).

log = logging.getLogger("sim")

# The same codes as a sweep's (sim.runs.sweep): 2 nothing ran, 3 the run (a job) failed; 130 interrupted.
EXIT_REFUSED, EXIT_FAILED, EXIT_INTERRUPTED = EXIT_NOT_STARTED, EXIT_JOBS_FAILED, 130

register_configs()
if not OmegaConf.has_resolver("sim_parameter_table"):
    OmegaConf.register_new_resolver("sim_parameter_table", lambda: parameter_table(markdown=False))
if not OmegaConf.has_resolver("sim_job_dir"):
    # a sweep job's folder: its overrides (policy=micro_fund,seed=3), or its number if it has none; a name too
    # long for the file system shortened with a hash (sim.runs.outputs.job_folder_name)
    # (and with a suffix if a file stands where its folder goes: sim.runs.outputs.job_folder)
    OmegaConf.register_new_resolver("sim_job_dir", lambda dirname, num, sweep_dir=None: _job_folder(
        str(dirname or ""), num, sweep_dir))


def _job_folder(dirname: str, num, sweep_dir=None):
    from sim.runs.outputs import job_folder

    return job_folder(dirname, num, sweep_dir)

# The deepest folder on the way to the run folder that existed before this command: a failed run
# removes the empty folders Hydra made below it, and never it or anything above it.
_existing_root: Path | None = None


def _stop(message: str, code: int) -> None:
    print(message, file=sys.stderr, flush=True)
    sys.exit(code)


def _remove_if_empty(folder: Path) -> None:
    """Remove ``folder`` and the empty folders above it that this command made (up to the one that existed)."""
    stop = _existing_root or Path.cwd()
    folder = Path(os.path.abspath(folder))
    while folder != stop and stop in folder.parents and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _discard(out_dir: Path) -> None:
    """Remove what a failed or interrupted run wrote into ``out_dir`` (and the folder, if it made it).

    A folder still holding a manifest holds an earlier finished run that this one had not begun to
    replace (the new run removes the manifest first): it is left as it is.
    """
    from sim.runs.outputs import DISTRICT_OUTPUT_FILES, MANIFEST_FILE, OUTPUT_FILES, STATUS_FILE

    if (out_dir / MANIFEST_FILE).exists():
        return
    for name in {*OUTPUT_FILES, *DISTRICT_OUTPUT_FILES, STATUS_FILE}:
        (out_dir / name).unlink(missing_ok=True)
    for tmp in out_dir.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
    _remove_if_empty(out_dir)


def _single_run(cfg: DictConfig, out_dir: Path) -> float | None:
    from sim.runs.outputs import DISTRICT_OUTPUT_FILES, MANIFEST_FILE, OUTPUT_FILES
    from sim.runs.runner import run
    from sim.tables.kpi_table import format_table

    if (out_dir / MANIFEST_FILE).exists() and not cfg.get("overwrite", False):
        _stop(f"error: {out_dir} already holds a finished run ({MANIFEST_FILE}); choose another folder "
              "(hydra.run.dir=...) or add overwrite=true to replace it", EXIT_REFUSED)
    try:
        report = run(cfg, out_dir, progress=bool(cfg.progress))
    except (ConfigError, OmegaConfBaseException) as exc:
        _discard(out_dir)
        _stop(f"error: {_one_line(exc)}", EXIT_REFUSED)
    except OSError as exc:
        _discard(out_dir)
        _stop(f"error: could not write the run into {out_dir}: {exc.strerror or exc}; nothing was kept",
              EXIT_FAILED)
    except KeyboardInterrupt:
        _discard(out_dir)
        _stop(f"interrupted: the run was stopped; nothing was kept in {out_dir}", EXIT_INTERRUPTED)
    print(format_table(report, lang=cfg.lang, cfg=cfg))
    files_written = ", ".join(OUTPUT_FILES) if cfg.get("district") is None else \
        ", ".join(DISTRICT_OUTPUT_FILES).replace(",", " (per community),", 1)
    print(f"\noutputs: {out_dir}/  ({files_written})")
    return report["targets"]["callback_satisfaction"]["value"]


def _sweep_job(cfg: DictConfig, out_dir: Path, hc) -> float | None:
    """One job of a sweep (:func:`sim.runs.runner.run_job`: skip if complete, record a failure, never raise)."""
    from sim.runs.outputs import BLOCKED_SUFFIX, write_status
    from sim.runs.runner import run_job
    from sim.runs.sweep import progress_line

    name = out_dir.name  # its folder (sim.runs.outputs.job_folder_name): what the plan in sweep.json lists
    wanted = out_dir.parent / name.removesuffix(BLOCKED_SUFFIX)
    if name.endswith(BLOCKED_SUFFIX) and os.path.lexists(wanted) and not wanted.is_dir():
        error = (f"FileExistsError: {wanted} is a file where this job's folder should be; remove or rename it "
                 "and run the sweep again")
        write_status(out_dir, "failed", wanted.name, None, 0.0, error,
                     {"cause": "exception", "overrides": list(hc.overrides.task)})
        print(progress_line(Path(hc.sweep.dir), wanted.name, "failed", 0.0) + f": {error}", flush=True)
        return None
    outcome = run_job(cfg, out_dir, name, list(hc.overrides.task))
    line = progress_line(Path(hc.sweep.dir), name, outcome.status, outcome.seconds)
    line += f": {outcome.error.split(': ', 1)[-1]}" if outcome.error else ""
    if outcome.recorded is not None:  # launched again after a launcher worker died: not run again
        line += ("  [its run outlived the dead worker and finished; not run again]" if outcome.recorded == "outlived"
                 else "  [recorded earlier in this sweep; not run again]")
    print(line, flush=True)
    return outcome.report["targets"]["callback_satisfaction"]["value"] if outcome.report else None


@hydra.main(config_path="pkg://sim.configs", config_name="config", version_base="1.3")
def hydra_main(cfg: DictConfig) -> float | None:
    """The task Hydra runs: one run (``python -m sim``) or one job of a sweep (``python -m sim -m``)."""
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    if hc.mode == RunMode.RUN:
        return _single_run(cfg, out_dir)
    return _sweep_job(cfg, out_dir, hc)


def _one_line(exc: BaseException) -> str:
    """An error's message on one line (Hydra's and OmegaConf's span several), with the key it names."""
    message = str(exc).split("Config search path:", 1)[0]  # Hydra lists its search path after the error
    if isinstance(exc, OmegaConfBaseException):
        message = message.split("\n    full_key:", 1)[0]  # OmegaConf appends the key and type: named below
    text = " ".join(line.strip() for line in message.splitlines() if line.strip())
    cause = exc.__cause__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text} ({_one_line(cause)})"
    key = getattr(exc, "full_key", None)
    if key and key not in text:
        text = f"{key}: {text}"
    return text or type(exc).__name__


def _run_dir_root(overrides: list[str]) -> Path:
    """The deepest existing folder on the way to the single run's folder (``hydra.run.dir``).

    The folder's name usually holds the time (``${now:...}``), known only when Hydra makes it; the
    part before the first interpolation is known now.
    """
    template = None
    for text in overrides:
        if text.partition("=")[0].lstrip("+") == "hydra.run.dir":
            template = OverridesParser.create().parse_override(text).value()
    if template is None:
        top = OmegaConf.load(str(files("sim.configs") / "config.yaml"))
        template = OmegaConf.to_container(top.hydra.run, resolve=False)["dir"]
    path = Path(os.path.abspath(Path(str(template).split("${", 1)[0] or ".").expanduser()))
    while not os.path.lexists(path):
        path = path.parent
    if not path.is_dir():
        raise ConfigError(f"hydra.run.dir: {path} is a file, not a folder; choose another folder")
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"hydra.run.dir: cannot write into {path} (permission denied); choose another folder")
    return path


HELP_FILE = ("hydra", "help", "sim_help.yaml")  # configs/hydra/help/sim_help.yaml: the text of --help


def app_help() -> str:
    """The text of ``python -m sim --help``, rendered as Hydra renders configs/hydra/help/sim_help.yaml (the config
    groups, each with its options, and the parameter table) but without composing the config: Hydra's own
    rendering deep-copies the whole config repository once per group and option (several seconds;
    benchmarks/cli_help.py)."""
    root = files("sim.configs")
    options = {}
    for group in root.iterdir():
        names = sorted(f.name.removesuffix(".yaml") for f in group.iterdir() if f.name.endswith(".yaml")) \
            if group.is_dir() and group.name != "hydra" else []
        if names:
            options[group.name] = names
    groups = "".join(f"{group}: {', '.join(names)}\n" for group, names in sorted(options.items()))
    cfg = OmegaConf.create({"hydra": {"help": OmegaConf.load(str(root.joinpath(*HELP_FILE)))}})
    return string.Template(cfg.hydra.help.template).substitute(APP_CONFIG_GROUPS=groups, FLAGS_HELP="",
                                                               HYDRA_CONFIG_GROUPS="", CONFIG="")


def _checked(argv: list[str]) -> None:
    """Refuse a bad command line before Hydra starts (exit 2, one line, nothing written)."""
    global _existing_root
    args = get_args_parser().parse_args(argv)
    if args.experimental_rerun:  # Hydra would unpickle whatever file it is given
        _stop("error: --experimental-rerun is not supported: this project's runs write no config.pickle "
              "(hydra.output_subdir is null); repeat a run with the overrides its manifest.json records "
              "(python -m sim KEY=VALUE ...)", EXIT_REFUSED)
    plain = not (args.hydra_help or args.shell_completion or args.info is not None or args.config_path
                 or args.config_name or args.config_dir or args.multirun)
    if args.help and plain and not any(o.lstrip("+").startswith("hydra.") for o in args.overrides):
        print(app_help())  # the same text as Hydra's, seconds sooner
        sys.exit(0)
    if (args.help or args.hydra_help or args.shell_completion or args.info is not None
            or args.config_path or args.config_name or args.config_dir):
        return  # help and information, or a config tree other than this project's: Hydra's own handling
    overrides = list(args.overrides)
    multirun = args.multirun or any(
        o.startswith(("+experiment=", "++experiment=")) or o.replace(" ", "") == "hydra.mode=MULTIRUN"
        for o in overrides)
    try:
        check_overrides(overrides, multirun=multirun)
        _existing_root = None if multirun else _run_dir_root(overrides)
    except ConfigError as exc:
        _stop(f"error: {exc}", EXIT_REFUSED)


def _stopped_sweep(reason: str) -> None:
    """If a sweep had started jobs when an error stopped it: say so and exit 3 (some jobs did not run), not 2."""
    if "sim.runs.sweep" not in sys.modules:  # no sweep started in this process
        return
    from sim.runs import sweep

    sweep_dir = sweep.STARTED
    if sweep_dir is None:
        return
    finished = len(sweep.job_statuses(sweep_dir))
    if finished:
        _stop(f"error: the sweep stopped after {finished} job(s): {reason}; the jobs that finished are kept in "
              f"{sweep_dir} (python -m sim.runs.collate --verify {sweep_dir} names the others; run the sweep again to "
              "do them)", EXIT_FAILED)


def main(argv: list[str] | None = None) -> None:
    """``python -m sim``: check the command line, then run it through Hydra; errors as one line, no traceback.

    ``argv`` defaults to ``sys.argv[1:]``.  Unexpected errors (a bug) still show their traceback, and
    so does everything when ``HYDRA_FULL_ERROR=1`` is set.
    """
    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    _checked(sys.argv[1:])
    full_error = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra then raises its errors here instead of printing a trace
    try:
        hydra_main()
    except KeyboardInterrupt:
        _stop("interrupted (Ctrl-C)", EXIT_INTERRUPTED)
    except (ConfigError, HydraException, OmegaConfBaseException) as exc:
        if full_error == "1":
            raise
        _stopped_sweep(_one_line(exc))
        _stop(f"error: {_one_line(exc)}", EXIT_REFUSED)
    except OSError as exc:  # e.g. Hydra could not make the run folder
        if full_error == "1":
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        _stopped_sweep(f"{exc.strerror or exc}{where}")
        _stop(f"error: {exc.strerror or exc}{where}; nothing ran", EXIT_REFUSED)
    finally:
        if full_error is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = full_error
