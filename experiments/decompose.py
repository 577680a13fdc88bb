"""What each lever adds: the five-society bundle's gain split among its levers (issue #24).

    python -m experiments.decompose [--group NAME=LEVER[,LEVER...]]... [--levers default|each] [--seeds 10]
                                    [--sets N [--posterior [FILE]] [--param KEY=LO:HI]...] [--jobs N]
                                    [--out DIR] [--lang en|zh] [overrides ...]      e.g. community=relocation

``five_society`` (``--bundle``) switches on many levers at once; against ``baseline`` (``--control``) it gains on
every key indicator. This command splits that gain among the levers by **Shapley values** (Shapley 1953): the
levers are put into ``k`` groups, and each of the ``2^k`` subsets S of groups is run as a scenario — the control
policy with the bundle's values of exactly the levers in S (the lever groups of
:class:`sim.settings.schema.PolicyConfig`
whose values differ between the two presets, read from the composed configs). With ``v(S)`` = indicator under S
minus indicator under the control, a group's Shapley value is its marginal gain ``v(S ∪ {i}) − v(S)`` averaged
over every order in which the groups could be added. The Shapley values add up to the full gain
``v(all)`` exactly (checked for every seed); a group that never changes anything gets 0; two groups that act alike
get the same value. Beside it, per group:

* the **main effect**: the group alone, ``v({i})``;
* the **drop**: what the bundle loses without it, ``v(all) − v(all − {i})``;

and per indicator the **interaction**: ``v(all) − Σ main effects`` (> 0: the levers reinforce each other; < 0:
they overlap, e.g. two ways of answering the same demands).

Every subset runs with the same ``--seeds`` seeds (common random numbers; :func:`sim.runs.runner.run_many` runs the
warm-up, under the baseline levers, once per seed and copies it to every subset), so each quantity is computed
per seed and reported as its mean with a 95 % t half-width over seeds. With ``--sets N`` the whole design runs
under N parameter sets drawn as :mod:`experiments.bands` draws them (a Latin hypercube over the calibration's
prior ranges, or ``--posterior``): each value then also gets its **parameter band**, 2.5–97.5 % of the per-set
means. The **cost** of a group is its Shapley value on the public cost per year (``public_cost_run`` × 52 / weeks
run): the extra public money it accounts for.

The default grouping (``--levers default``, :data:`DEFAULT_GROUPS`) has seven groups, the instruments a policy
researcher or a street office would name and fund separately: government purchase of services (a contract
budget); the social workers (a station's staff and what they do: supervision, recruiting, incubation); projects
and claims (the yearly project round's three sources: resident units' claims, the party organisation that
convenes them, venture philanthropy); the community fund with the money that flows into it (the fund's
governance and match, the one-cent charity, charity sales: one ledger); the moral bank; the residents' council;
the social enterprise. Levers that only act together are kept together, so that no group's value depends on a
lever without which it does nothing; seven groups keep the design at 128 scenarios a seed. ``--group`` defines
groups of one's own (the bundle's levers left out of them form the group ``other``, or one group each with
``--levers each``); more than 8 groups (256 scenarios) are refused unless ``--max-groups`` allows them.

Outputs in ``--out`` (default ``results/decompose/<community>``): ``decomposition.csv`` (one row per indicator
and group, plus the rows ``interaction`` and ``total``), ``per_seed.csv`` (every value per parameter set and
seed), ``groups.csv`` (each group's levers and the settings it changes), ``parameter_sets.csv`` (with ``--sets``),
``decomposition.png``/``.svg``, ``report.md`` in the language asked, README's table (below) as
``decomposition.en.md`` and ``decomposition.zh.md``, and the runs in ``sweep/`` (resumable: run the same command
again to finish an interrupted one). How to read them: docs/decomposition.md.

README's table (:func:`experiments.decompose_report.readme_table`): the lever groups, the interaction and the total
against the indicators most readers look at (#34, #35, #33, #15, #28, #24, #5) and the extra public cost per year,
each cell the Shapley value ± its seed half-width [band], with a caption naming the community, seeds, sets and the
command (as given, less ``--jobs``, which changes no number; saved in decomposition.csv's ``command`` column).
``--write-readme`` writes it between ``<!-- decompose:<community>:start -->`` and ``<!-- decompose:<community>:end -->``
in README.md (English) and README.zh-CN.md (Chinese), through experiments/readme_regions.py as
``experiments.readme_tables`` does (both READMEs checked before anything runs or is written). ``--render-only``
runs nothing and renders the saved ``<out>/decomposition.csv`` again (with ``--write-readme``: into the READMEs);
``--check`` runs nothing and exits 1, naming the README and the marker, when a README's region differs from what
the saved CSV renders.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import math
import re
import shlex
import sys
import typing
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import decompose_report as rep
from experiments import readme_regions as regions
from experiments import stats
from experiments.bands import POSTERIOR, BandsError, draw_sets, extra_priors, set_values
from experiments.decompose_report import DEFAULT_GROUPS, OTHER, FontError, setup_theme
from experiments.loading import COMPLETE
from experiments.readme_tables import README
from sim.model.indicators import KEY_INDICATORS
from sim.runs.outputs import write_atomic
from sim.runs.runner import run_many
from sim.settings.config import (
    PolicyConfig,
    SimConfig,
    get_value,
    policy_presets,
    settings_for,
    to_plain_dict,
    with_values,
)
from sim.settings.overrides import check_overrides
from sim.settings.params import ConfigError

# The indicators decomposed: the six key indicators, #5 (resident units taking part) and #28 (residents taking
# part twice a year), the two plan indicators the levers aim at beyond the key six.
INDICATORS = (*KEY_INDICATORS, "enterprise_participation", "volunteer_active_share_2plus")
COST = "public_cost_run"
WEEKS_PER_YEAR = 52
MAX_GROUPS = 8       # 2^8 = 256 scenarios a seed; more only with --max-groups
HARD_MAX_GROUPS = 12  # 4,096 scenarios a seed: beyond any sensible run
RESERVED = ("interaction", "total")  # the extra rows of decomposition.csv
PREFIX = "decompose"  # README's markers: <!-- decompose:<community>:start --> (experiments/readme_regions.py)
CSV_FILE = "decomposition.csv"


class DecomposeError(ValueError):
    """Bad input: the message names the option and what is allowed."""


# ---------------------------------------------------------------------------------------------
# Shapley values: pure functions of a value function over subsets (bit masks)
# ---------------------------------------------------------------------------------------------

def n_groups(values: np.ndarray) -> int:
    """k for a value array of 2^k subsets (first axis), or ValueError."""
    size = np.shape(values)[0]
    k = size.bit_length() - 1
    if size < 1 or 1 << k != size:
        raise ValueError(f"a value function needs 2^k values (one per subset), got {size}")
    return k


def shapley(values: np.ndarray) -> np.ndarray:
    """Exact Shapley values of the k players of a game given on all 2^k subsets.

    ``values[m]`` is the worth of the subset whose members are the set bits of ``m`` (bit i = player i); extra axes
    (seeds, indicators) are carried along. Returns an array of shape (k, ...): player i's value is
    ``Σ_{S ∌ i} |S|! (k − |S| − 1)! / k! · (values[S ∪ {i}] − values[S])``. The values sum to
    ``values[all] − values[empty]`` (efficiency).
    """
    v = np.asarray(values, dtype=float)
    k = n_groups(v)
    sizes = np.array([bin(m).count("1") for m in range(1 << k)])
    weight = np.array([math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) if s < k else 0.0
                       for s in range(k + 1)])
    out = np.zeros((k, *v.shape[1:]))
    for i in range(k):
        bit = 1 << i
        without = np.array([m for m in range(1 << k) if not m & bit])
        w = weight[sizes[without]].reshape(-1, *([1] * (v.ndim - 1)))
        out[i] = (w * (v[without | bit] - v[without])).sum(axis=0)
    return out


def main_effects(values: np.ndarray) -> np.ndarray:
    """Each player alone against nobody: ``values[{i}] − values[empty]``, shape (k, ...)."""
    v = np.asarray(values, dtype=float)
    return np.stack([v[1 << i] - v[0] for i in range(n_groups(v))])


def drops(values: np.ndarray) -> np.ndarray:
    """What everybody loses without each player: ``values[all] − values[all − {i}]``, shape (k, ...)."""
    v = np.asarray(values, dtype=float)
    k = n_groups(v)
    full = (1 << k) - 1
    return np.stack([v[full] - v[full ^ (1 << i)] for i in range(k)])


def check_efficiency(phi: np.ndarray, values: np.ndarray, rel: float = 1e-9) -> None:
    """Raise AssertionError unless the Shapley values ``phi`` sum to the full gain wherever it is finite."""
    v = np.asarray(values, dtype=float)
    gain = v[-1] - v[0]
    total = np.asarray(phi).sum(axis=0)
    finite = np.isfinite(v).all(axis=0)  # a game with a missing value has no decomposition to check
    scale = np.nanmax(np.abs(v), axis=0, initial=0.0) if v.size else 0.0
    tol = rel * (1.0 + np.broadcast_to(scale, gain.shape))
    bad = finite & ~(np.abs(total - gain) <= tol)
    if np.any(bad):
        raise AssertionError(f"Shapley values do not sum to the full gain: {total[bad][:3]} vs {gain[bad][:3]}")


def decompose_values(values: np.ndarray) -> dict[str, np.ndarray]:
    """Shapley values, main effects and drops (k, ...), the full gain and the interaction (...) of a value function
    given on all subsets; efficiency checked. Where any subset's value is missing (NaN, e.g. a rate with nothing to
    divide), every result is NaN: a decomposition needs the whole game."""
    v = np.asarray(values, dtype=float)
    phi, main = shapley(v), main_effects(v)
    check_efficiency(phi, v)
    total = v[-1] - v[0]
    out = {"shapley": phi, "main_effect": main, "drop": drops(v), "total": total,
           "interaction": total - main.sum(axis=0)}
    missing = ~np.isfinite(v).all(axis=0)
    return {key: np.where(missing, np.nan, value) for key, value in out.items()}


# ---------------------------------------------------------------------------------------------
# Levers and groups
# ---------------------------------------------------------------------------------------------

def lever_names() -> list[str]:
    """The lever groups of the policy schema (PolicyConfig's sections), in the schema's order."""
    hints = typing.get_type_hints(PolicyConfig)
    return [f.name for f in dataclasses.fields(PolicyConfig) if dataclasses.is_dataclass(hints[f.name])]


def changed_settings(control: SimConfig, bundle: SimConfig) -> dict[str, dict[str, object]]:
    """Per lever group of the policy, the settings (dotted key → the bundle's value) in which the bundle differs
    from the control; levers the bundle leaves as they are are left out."""
    a, b = to_plain_dict(control.policy), to_plain_dict(bundle.policy)
    out = {}
    for lever in lever_names():
        keys = {f"policy.{lever}.{leaf}": get_value(bundle, f"policy.{lever}.{leaf}")
                for leaf in b[lever] if a[lever][leaf] != b[lever][leaf]}
        if keys:
            out[lever] = keys
    return out


def _suggest(word: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(word, allowed, n=1, cutoff=0.6)
    return f"did you mean {close[0]}? " if close else ""


def make_groups(specs: list[str], mode: str, levers: list[str], bundle: str, control: str) -> dict[str, list[str]]:
    """The groups of levers to decompose into: ``--group NAME=LEVER,...`` options (the bundle's levers they leave
    out form the group ``other``, or one group each with ``mode`` "each"), else the default grouping or one group
    per lever. ``levers``: the lever groups the bundle changes."""
    allowed = lever_names()
    if not specs:
        if mode == "each":
            return {lever: [lever] for lever in levers}
        groups = {name: [lv for lv in members if lv in levers] for name, members in DEFAULT_GROUPS.items()}
        groups = {name: members for name, members in groups.items() if members}
        rest = [lv for lv in levers if not any(lv in m for m in groups.values())]
        return {**groups, **({OTHER: rest} if rest else {})}
    groups: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for spec in specs:
        name, eq, members = spec.partition("=")
        name = name.strip()
        if not eq or not name or not members.strip():
            raise DecomposeError(f"--group {spec!r}: write NAME=LEVER[,LEVER...], e.g. service=gov_purchase")
        if not re.fullmatch(r"[A-Za-z0-9_-]+", name) or name in RESERVED:
            raise DecomposeError(f"--group {spec!r}: a group's name is letters, digits, _ or - "
                                 f"(not {' or '.join(RESERVED)})")
        if name in groups:
            raise DecomposeError(f"--group {spec!r}: the group {name!r} is named twice")
        groups[name] = []
        for lever in (m.strip() for m in members.split(",") if m.strip()):
            if lever not in allowed:
                raise DecomposeError(f"--group {spec!r}: {lever!r} is not a lever group of the policy; "
                                     f"{_suggest(lever, allowed)}allowed: {', '.join(allowed)}")
            if lever not in levers:
                raise DecomposeError(f"--group {spec!r}: {bundle} does not change {lever!r} from {control}; "
                                     f"its levers: {', '.join(levers)}")
            if lever in owner:
                raise DecomposeError(f"--group {spec!r}: the lever {lever!r} is in two groups "
                                     f"({owner[lever]} and {name}); put each lever in one group")
            owner[lever] = name
            groups[name].append(lever)
    rest = [lv for lv in levers if lv not in owner]
    if rest and mode == "each":
        for lever in rest:
            if lever in groups:
                raise DecomposeError(f"--group {lever}=...: the name {lever!r} is also the group of the lever "
                                     f"{lever!r} left to --levers each; name the group otherwise")
            groups[lever] = [lever]
    elif rest:
        if OTHER in groups:
            raise DecomposeError(f"--group {OTHER}=...: the levers no --group names ({', '.join(rest)}) form the "
                                 f"group {OTHER!r}; name your group otherwise or list them in a group")
        groups[OTHER] = rest
    return groups


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------

def command_line(argv: list[str]) -> str:
    """The command as given, for README's caption, less ``--jobs N`` (how many runs at once changes no number)."""
    kept, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--jobs":
            skip = True
        elif not a.startswith("--jobs="):
            kept.append(a)
    return shlex.join(["python", "-m", "experiments.decompose", *kept])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m experiments.decompose", description=__doc__.split("\n\n")[2],
                                     epilog="default groups: " + "; ".join(f"{n}={','.join(m)}"
                                                                           for n, m in DEFAULT_GROUPS.items()),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--group", action="append", default=[], metavar="NAME=LEVER[,LEVER...]",
                        help="a group of levers (repeatable), e.g. --group service=gov_purchase --group "
                             "projects=enterprise,party_building,venture; levers: the sections of policy "
                             "(python -m sim --help)")
    parser.add_argument("--levers", choices=("default", "each"), default="default",
                        help="without --group: the default grouping (7 groups) or one group per lever; with "
                             "--group: the levers it leaves out form one group 'other' (default) or one each")
    parser.add_argument("--max-groups", type=int, default=MAX_GROUPS,
                        help=f"allow this many groups (default {MAX_GROUPS}: 2^{MAX_GROUPS} scenarios a seed; "
                             f"at most {HARD_MAX_GROUPS})")
    parser.add_argument("--bundle", default="five_society", help="the policy whose gain is split (default "
                                                                 "%(default)s)")
    parser.add_argument("--control", default="baseline", help="the policy it is measured against (default "
                                                              "%(default)s)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds, the same for every subset (default 10)")
    parser.add_argument("--sets", type=int, default=None,
                        help="also run under this many parameter sets (≥ 2; the bands' Latin hypercube over the "
                             "calibration's prior ranges) for a parameter band; default: the model's own values")
    parser.add_argument("--posterior", type=Path, nargs="?", const=POSTERIOR, default=None, metavar="FILE",
                        help="with --sets: draw the calibrated parameters from this ABC posterior (default file: "
                             f"{POSTERIOR})")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=LO:HI",
                        help="with --sets: also vary this parameter uniformly over [LO, HI] (repeatable)")
    parser.add_argument("--jobs", type=int, default=None, help="runs at once (default: all cores)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: results/decompose/<community>)")
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="language of report and figure")
    parser.add_argument("--write-readme", action="store_true",
                        help="write README's table between <!-- decompose:<community>:start/end --> in README.md and "
                             "README.zh-CN.md (refused before any run if a README lacks them)")
    parser.add_argument("--render-only", action="store_true",
                        help=f"run nothing: render <out>/{CSV_FILE} again (with --write-readme: into the READMEs)")
    parser.add_argument("--check", action="store_true",
                        help=f"run nothing: exit 1 if a README's table differs from what <out>/{CSV_FILE} renders")
    parser.add_argument("--readme", type=Path, default=README["en"], help="the English README (default: README.md)")
    parser.add_argument("--readme-zh", type=Path, default=README["zh"],
                        help="the Chinese README (default: README.zh-CN.md)")
    parser.add_argument("overrides", nargs="*", help="community and other settings, as for python -m sim "
                                                     "(not policy or seed)")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_intermixed_args(argv)  # options and overrides in any order
    args.command = command_line(argv)
    args.readmes = {"en": args.readme, "zh": args.readme_zh}
    if args.posterior is not None and "=" in str(args.posterior) and not args.posterior.exists():
        args.overrides.insert(0, str(args.posterior))  # `--posterior community=x`: an override, not a file
        args.posterior = POSTERIOR
    return args


@dataclasses.dataclass
class Design:
    """What the command runs: the settings of the control and the bundle, the groups and what each changes."""

    control: SimConfig
    bundle: SimConfig
    changes: dict[str, dict[str, object]]  # lever → dotted key → the bundle's value
    groups: dict[str, list[str]]           # group → levers
    sets: pd.DataFrame | None              # parameter sets (None: the model's own values)

    @property
    def k(self) -> int:
        return len(self.groups)

    @property
    def place(self) -> str:
        """The community (or district) decomposed: the name of README's region."""
        return self.control.district.name if self.control.district is not None else self.control.community.name

    def subset_values(self, mask: int) -> dict[str, object]:
        """The settings a subset of groups (bit i = group i) changes from the control."""
        out: dict[str, object] = {}
        for i, levers in enumerate(self.groups.values()):
            if mask & (1 << i):
                for lever in levers:
                    out.update(self.changes[lever])
        return out

    def subset_name(self, mask: int) -> str:
        names = [g for i, g in enumerate(self.groups) if mask & (1 << i)]
        return "+".join(names) or "none"


def validate(args: argparse.Namespace) -> Design:
    """Check every option and build the design; raises DecomposeError (nothing written yet)."""
    presets = policy_presets()
    for option, name in (("--bundle", args.bundle), ("--control", args.control)):
        if name not in presets:
            raise DecomposeError(f"{option} {name!r}: not a policy preset; {_suggest(name, presets)}"
                                 f"allowed: {', '.join(presets)}")
    if args.bundle == args.control:
        raise DecomposeError(f"--bundle {args.bundle} --control {args.control}: two different policies")
    if args.seeds < 2:
        raise DecomposeError(f"--seeds {args.seeds}: allowed ≥ 2 (a seed interval needs several seeds)")
    if args.sets is not None and args.sets < 2:
        raise DecomposeError(f"--sets {args.sets}: allowed ≥ 2 (a band needs several parameter sets), or leave "
                             "it out to use the model's own values")
    if args.sets is None and (args.posterior is not None or args.param):
        raise DecomposeError("--posterior and --param draw parameter sets: give --sets N (N ≥ 2) too")
    if args.jobs is not None and args.jobs < 1:
        raise DecomposeError(f"--jobs {args.jobs}: allowed ≥ 1")
    if not 1 <= args.max_groups <= HARD_MAX_GROUPS:
        raise DecomposeError(f"--max-groups {args.max_groups}: allowed 1 to {HARD_MAX_GROUPS}")
    for o in args.overrides:
        key = o.split("=")[0].lstrip("+~")
        if key in ("policy", "seed") or key.startswith("policy."):
            raise DecomposeError(f"{o}: the policies are set by --bundle and --control and the seeds by --seeds, "
                                 "not as overrides")
    try:
        check_overrides([*args.overrides, f"policy={args.bundle}"])
        control = settings_for(*args.overrides, f"policy={args.control}")
        bundle = settings_for(*args.overrides, f"policy={args.bundle}")
    except ConfigError as exc:
        raise DecomposeError(str(exc)) from None
    changes = changed_settings(control, bundle)
    if not changes:
        raise DecomposeError(f"--bundle {args.bundle}: it sets every lever as {args.control} does; nothing to split")
    groups = make_groups(args.group, args.levers, list(changes), args.bundle, args.control)
    if len(groups) > args.max_groups:
        raise DecomposeError(f"--group/--levers: {len(groups)} groups need 2^{len(groups)} = {1 << len(groups):,} "
                             f"scenarios a seed; allowed ≤ {args.max_groups} groups (raise it with --max-groups "
                             f"{len(groups)}, or put levers together with --group)")
    try:
        sets = draw_sets(args.sets, args.posterior, extra_priors(args.param)) if args.sets else None
    except BandsError as exc:
        raise DecomposeError(str(exc)) from None
    design = Design(control, bundle, changes, groups, sets)
    if args.out is None:
        args.out = Path("results/decompose") / design.place
    return design


def scenarios(design: Design, seeds: int) -> tuple[list[SimConfig], list[str], list[list[str]], pd.DataFrame]:
    """Every run: each parameter set × subset × seed; its settings, folder name, overrides and (run_dir, set, mask,
    seed)."""
    sets = design.sets if design.sets is not None else pd.DataFrame(index=pd.RangeIndex(1, name="set"))
    settings, names, overrides, index = [], [], [], []
    for j, values in sets.iterrows():
        point = set_values(values)
        for mask in range(1 << design.k):
            changed = design.subset_values(mask)
            name = f"{design.control.policy.name}+{design.subset_name(mask)}" if mask else design.control.policy.name
            base = with_values(design.control, {**changed, "policy.name": name})
            for seed in range(seeds):
                settings.append(with_values(base, {**point, "seed": seed}))
                prefix = f"set={j:03d}," if design.sets is not None else ""
                names.append(f"{prefix}groups={design.subset_name(mask)},seed={seed}")
                overrides.append([f"seed={seed}", *(f"{k}={v}" for k, v in {**changed, **point}.items())])
                index.append((names[-1], j, mask, seed))
    return settings, names, overrides, pd.DataFrame(index, columns=["run_dir", "set", "mask", "seed"])


def per_seed(runs: pd.DataFrame, design: Design, weeks: int) -> tuple[pd.DataFrame, int]:
    """The long table of every value per parameter set, seed, indicator and group (plus ``interaction`` and
    ``total``): shapley, main_effect, drop; and the number of (set, seed) pairs left out for a missing run."""
    runs = runs.assign(cost_per_year=runs[COST].astype(float) * WEEKS_PER_YEAR / weeks)
    kpis = [k for k in INDICATORS if k in runs.columns] + ["cost_per_year"]
    n, names, parts, dropped = 1 << design.k, list(design.groups), [], 0
    for (j, seed), g in runs.groupby(["set", "seed"], sort=True):
        g = g.drop_duplicates("mask").set_index("mask").reindex(range(n))
        if g["run_dir"].isna().any():
            dropped += 1
            continue
        v = g[kpis].to_numpy(dtype=float)          # (2^k, indicators)
        d = decompose_values(v)
        for col, k in enumerate(kpis):
            rows = pd.DataFrame({"group": [*names, "interaction", "total"],
                                 "shapley": [*d["shapley"][:, col], d["interaction"][col], d["total"][col]],
                                 "main_effect": [*d["main_effect"][:, col], math.nan, d["main_effect"][:, col].sum()],
                                 "drop": [*d["drop"][:, col], math.nan, math.nan]})
            parts.append(rows.assign(set=j, seed=seed, indicator=k))
    cols = ["set", "seed", "indicator", "group", "shapley", "main_effect", "drop"]
    return (pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)), dropped


def summarise(long: pd.DataFrame, design: Design) -> pd.DataFrame:
    """decomposition.csv: per indicator and group, the mean of each value over sets and seeds with its seed
    half-width (the 95 % t half-width over seeds, averaged over sets) and, with parameter sets, the Shapley value's
    band (2.5–97.5 % of the per-set means); the group's share of the full gain and its cost per year."""
    out = None
    banded = design.sets is not None
    for value in ("shapley", "main_effect", "drop"):
        diffs = long.rename(columns={"group": "policy", "indicator": "kpi", value: "diff"})
        table = stats.band_table(diffs[["policy", "set", "seed", "kpi", "diff"]])
        table = table.rename(columns={"policy": "group", "kpi": "indicator", "mean_diff": value,
                                      "seed_half_width": f"{value}_half_width"})
        keep = ["group", "indicator", value, f"{value}_half_width"]
        if value == "shapley":
            keep = ["group", "indicator", "sets", "seeds", *keep[2:], "band_low", "band_high", "sign_share"]
        table = table[keep]
        out = table if out is None else out.merge(table, on=["group", "indicator"], how="left")
    if not banded:  # one set: no band, and no share of sets
        out[["band_low", "band_high", "sign_share"]] = math.nan
    totals = out[out["group"] == "total"].set_index("indicator")["shapley"]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = out["shapley"] / out["indicator"].map(totals)
    out["share_of_gain"] = share.where(out["indicator"].map(totals).abs() > 1e-12)
    cost = out[out["indicator"] == "cost_per_year"].set_index("group")
    out["cost_per_year"] = out["group"].map(cost["shapley"])
    out["cost_half_width"] = out["group"].map(cost["shapley_half_width"])
    out["cost_band_low"] = out["group"].map(cost["band_low"])
    out["cost_band_high"] = out["group"].map(cost["band_high"])
    out = out[out["indicator"] != "cost_per_year"].copy()
    out["kind"] = np.where(out["group"].isin(RESERVED), out["group"], "group")
    out["levers"] = out["group"].map({g: ",".join(m) for g, m in design.groups.items()}).fillna("")
    order = {g: i for i, g in enumerate([*design.groups, "interaction", "total"])}
    kpi_order = {k: i for i, k in enumerate(INDICATORS)}
    out = out.sort_values(["indicator", "group"], key=lambda s: s.map(kpi_order if s.name == "indicator" else order))
    cols = ["indicator", "group", "kind", "levers", "shapley", "shapley_half_width", "band_low", "band_high",
            "sign_share", "share_of_gain", "main_effect", "main_effect_half_width", "drop", "drop_half_width",
            "cost_per_year", "cost_half_width", "cost_band_low", "cost_band_high", "sets", "seeds"]
    return out[cols].reset_index(drop=True)


def groups_table(design: Design) -> pd.DataFrame:
    """groups.csv: each group, its levers and the settings it changes (the bundle's values)."""
    rows = [{"group": g, "lever": lever, "setting": key, "value": value}
            for g, levers in design.groups.items() for lever in levers for key, value in design.changes[lever].items()]
    return pd.DataFrame(rows, columns=["group", "lever", "setting", "value"])


def run(args: argparse.Namespace) -> pd.DataFrame:
    design = validate(args)
    try:
        setup_theme(args.lang, paper=True)  # a missing CJK font for --lang zh is refused before any run
    except FontError as exc:
        raise DecomposeError(f"--lang {args.lang}: {exc}") from None
    if args.write_readme:  # a README without the markers is refused before anything runs
        regions.check_files([design.place], args.readmes, PREFIX, DecomposeError)
    settings, names, overrides, index = scenarios(design, args.seeds)
    print(f"{design.k} groups ({', '.join(design.groups)}) → {1 << design.k} scenarios × {args.seeds} seeds"
          + (f" × {args.sets} parameter sets" if args.sets else "") + f" = {len(settings):,} runs", file=sys.stderr)
    runs = run_many(settings, args.out / "sweep", args.jobs, names=names, overrides=overrides)
    runs = runs.drop(columns=["set", "mask", "seed"], errors="ignore").merge(index, on="run_dir", how="inner")
    failed = runs[~runs["status"].isin(COMPLETE)]
    runs = runs[runs["status"].isin(COMPLETE)]  # "skipped": complete from an earlier call
    long, dropped = per_seed(runs, design, design.control.steps)
    if len(failed) or dropped:
        print(f"note: {len(failed)} runs did not finish; {dropped} (set, seed) pairs without all "
              f"{1 << design.k} subsets are left out (see status.json in {args.out / 'sweep'})", file=sys.stderr)
    if long.empty:
        raise DecomposeError(f"no seed with every subset complete in {args.out / 'sweep'}: see the runs' status.json")
    table = summarise(long, design).assign(
        community=design.place, bundle=args.bundle, control=args.control, steps=design.control.steps,
        warmup_weeks=design.control.warmup_weeks, command=getattr(args, "command", ""))
    write_atomic(args.out / "per_seed.csv", long.to_csv(index=False))
    write_atomic(args.out / "groups.csv", groups_table(design).to_csv(index=False))
    if design.sets is not None:
        write_atomic(args.out / "parameter_sets.csv", design.sets.to_csv())
    write_atomic(args.out / "decomposition.csv", table.to_csv(index=False))
    rep.save_figure_atomic(rep.plot_decomposition(table, args.lang), args.out, "decomposition")
    write_atomic(args.out / "report.md", rep.report(table, design, args, len(settings)))
    return table


# ---------------------------------------------------------------------------------------------
# README's table
# ---------------------------------------------------------------------------------------------

def read_table(out: Path) -> pd.DataFrame:
    """The saved ``<out>/decomposition.csv``, ready for :func:`experiments.decompose_report.readme_table`."""
    path = out / CSV_FILE
    if not path.exists():
        raise DecomposeError(f"no {path}: run python -m experiments.decompose with --out {out} first")
    table = pd.read_csv(path)
    missing = [c for c in ("indicator", "group", "kind", "shapley", *rep.README_META) if c not in table]
    if missing:
        raise DecomposeError(f"{path}: no column {', '.join(missing)} (written before README tables existed?); run "
                             "the command that made it again (it resumes: no run is repeated)")
    table["levers"] = table["levers"].fillna("").astype(str)
    places = table["community"].dropna().unique()
    if len(places) != 1:
        raise DecomposeError(f"{path}: one community expected, found {', '.join(map(str, places)) or 'none'}")
    return table


def render_readme(table: pd.DataFrame, path: Path | str = CSV_FILE) -> dict[str, str]:
    """README's table in each language (en, zh) from decomposition.csv."""
    try:
        return {lang: rep.readme_table(table, lang) for lang in README}
    except (ValueError, KeyError) as exc:
        raise DecomposeError(f"{path}: {exc}") from None


def write_readme_tables(args: argparse.Namespace) -> dict[str, str]:
    """Render the saved decomposition.csv: decomposition.en.md / .zh.md in --out and, with --write-readme, the
    region of its community in both READMEs (every README checked before anything is written)."""
    table = read_table(args.out)
    place = str(table["community"].iloc[0])
    if args.write_readme:
        regions.check_files([place], args.readmes, PREFIX, DecomposeError)
    rendered = render_readme(table, args.out / CSV_FILE)
    texts = regions.updated_files({lang: {place: text} for lang, text in rendered.items()}, args.readmes, PREFIX,
                                  DecomposeError) if args.write_readme else {}
    for lang, text in rendered.items():
        write_atomic(args.out / f"decomposition.{lang}.md", text + "\n")
    for path in regions.write_files(texts):
        print(f"updated {path}", file=sys.stderr)
    return rendered


def default_out(args: argparse.Namespace) -> Path:
    """--out, else results/decompose/<community of the overrides> (as a run would use), without running."""
    if args.out is not None:
        return args.out
    try:
        control = settings_for(*args.overrides, f"policy={args.control}")
    except ConfigError as exc:
        raise DecomposeError(str(exc)) from None
    return Path("results/decompose") / (control.district.name if control.district is not None
                                        else control.community.name)


def check_readme(args: argparse.Namespace) -> int:
    """--check: 0 if both READMEs hold what the saved CSV renders, else 1 naming each README and marker."""
    table = read_table(args.out)
    place = str(table["community"].iloc[0])
    rendered = render_readme(table, args.out / CSV_FILE)
    stale = regions.stale({lang: {place: text} for lang, text in rendered.items()}, args.readmes, PREFIX,
                          DecomposeError)
    if stale:
        lines = [f"{path}: {regions.markers(name, PREFIX)[0]} … {regions.markers(name, PREFIX)[1]}"
                 for path, name in stale]
        print(f"out of date (differs from what {args.out / CSV_FILE} renders):\n  " + "\n  ".join(lines)
              + f"\nrun python -m experiments.decompose --render-only --write-readme --out {args.out}",
              file=sys.stderr)
        return 1
    print(f"READMEs match {args.out / CSV_FILE}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.check or args.render_only:
            if args.check and (args.write_readme or args.render_only):
                raise DecomposeError("--check only reads: do not combine it with --write-readme or --render-only")
            args.out = default_out(args)
            if args.check:
                return check_readme(args)
            print(write_readme_tables(args)["en"])
            print(f"wrote {args.out}/decomposition.en.md, decomposition.zh.md")
            return 0
        table = run(args)
        write_readme_tables(args)
    except (DecomposeError, regions.RegionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(rep.printed_table(table))
    print(f"wrote {args.out}/report.md, decomposition.csv, decomposition.png, decomposition.en.md, decomposition.zh.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
