"""Bad input on the command line: a generated table of bad overrides, each refused cleanly.

The table (:func:`generate_cases`, several hundred cases) holds a misspelling of every parameter
(with and without ``+``), values out of range, of the wrong type, too large, ``null`` or broken
interpolations for every parameter, bad options of every config group (``../`` paths, ``null``,
removal), sweeps without ``-m``, preset names, ``district.*`` without a district, and refusals
that happen only once the config is built (a rule relating two values, a folder that already
holds a run, a run folder that cannot be made, a full disk, Ctrl-C).  For each case: the exit
status, one line on stderr naming the key, no traceback, and no new file or folder anywhere.

All cases run in ONE subprocess (this file run as a script: it calls :func:`sim.runs.cli.main` with each
case's arguments, catching its exit), so the table costs seconds, not one Python start-up per case.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import io
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

OUTSIDE = "outside"  # a folder beside the working directory: absolute run folders outside it go there


@dataclasses.dataclass
class Case:
    """One bad command line: its arguments, the exit status, the key its message must name, what it must say."""

    id: str
    argv: list[str]
    named: str
    code: int = 2
    says: str = ""
    setup: str = ""   # "finished_run" (a run already in ./done), "blocker" (./blocker is a file)
    fault: str = ""   # "disk_full" (no space when kpis.json is written), "interrupt" (Ctrl-C in week 3),
    #                   "read_only" (no folder may be written: as for a user without permission; tests may run as root)


# --------------------------------------------------------------------------------------------
# the generator
# --------------------------------------------------------------------------------------------
def _misspellings(key: str, taken: set[str]) -> list[str]:
    """Two misspellings of ``key``'s last part (a letter added, a letter dropped) that are not valid keys."""
    head, _, leaf = key.rpartition(".")
    prefix = f"{head}." if head else ""
    out = []
    added = leaf + ("x" if leaf.endswith("s") else "s")
    dropped = leaf[:len(leaf) // 2] + leaf[len(leaf) // 2 + 1:]
    for wrong in (added, dropped):
        if prefix + wrong not in taken and prefix + wrong not in out:
            out.append(prefix + wrong)
    return out


def generate_cases() -> list[Case]:
    """Several hundred bad command lines, generated from the schema and the config groups."""
    from sim.settings.config import schema_fields
    from sim.settings.overrides import _sections, group_options

    fields = schema_fields()
    taken = set(fields) | set(_sections())
    cases: list[Case] = []
    for key, f in fields.items():
        need = ["district=small_district"] if key.startswith("district.") else []
        for k, wrong in enumerate(_misspellings(key, taken)):
            plus = "+" if k % 2 else ""
            cases.append(Case(f"misspelt {plus}{wrong}", [f"{plus}{wrong}=1", *need], wrong, says=key))
        kind, lo, hi = f.type, f.metadata.get("lo"), f.metadata.get("hi")
        if kind in ("int", "float"):
            if lo is not None:
                cases.append(Case(f"below {key}", [f"{key}={lo - 1}", *need], key, says="out of range"))
            if hi is not None:
                cases.append(Case(f"above {key}", [f"{key}={hi * 10 + 1}", *need], key, says="out of range"))
            cases.append(Case(f"text {key}", [f"{key}=abc", *need], key, says="is not a"))
            cases.append(Case(f"huge {key}", [f"{key}={'9' * 400}", *need], key))
            cases.append(Case(f"bool {key}", [f"{key}=true", *need], key, says="is not a"))
            cases.append(Case(f"null {key}", [f"{key}=null", *need], key, says="a value is needed"))
            cases.append(Case(f"list {key}", [f"{key}=[1,2]", *need], key, says="single value"))
            cases.append(Case(f"interpolation {key}", [f"{key}=${{nope.{key}}}", *need], key,
                              says="cannot be resolved"))
            if kind == "int":
                cases.append(Case(f"fraction {key}", [f"{key}=1.5", *need], key, says="not an integer"))
            else:
                cases.append(Case(f"nan {key}", [f"{key}=nan", *need], key, says="must be a number"))
        elif kind == "bool":
            for value in ("2", "0", "yes", "null"):
                cases.append(Case(f"{value} {key}", [f"{key}={value}", *need], key))
        elif kind == "Governance":
            cases.append(Case(f"option {key}", [f"{key}=nobody"], key, says="choose one of"))
        elif key.endswith((".name", ".label_zh")):
            cases.append(Case(f"relabel {key}", [f"{key}=x", *need], key, says="set by its file"))
        elif key == "lang":
            cases.append(Case("lang fr", ["lang=fr"], key, says="choose one of"))
        elif key == "district.communities":
            cases.append(Case("member path", [f"{key}=[{{preset: ../policy/baseline, count: 1}}]", *need], key,
                              says="not a community preset"))
            cases.append(Case("member key", [f"{key}=[{{presets: township, count: 1}}]", *need], key,
                              says="did you mean preset"))
            cases.append(Case("member count", [f"{key}=[{{preset: township, count: 0}}]", *need], key,
                              says="out of range"))
            cases.append(Case("members scalar", [f"{key}=3", *need], key, says="must be a list"))
        if key.startswith("district.") and kind in ("int", "float"):
            cases.append(Case(f"no district {key}", [f"{key}={f.default}"], key, says="no district is chosen"))

    for group in ("community", "policy", "behaviour", "district"):
        first = group_options(group)[0]
        cases += [
            Case(f"{group} missing", [f"{group}=nope"], group, says="choose one of"),
            Case(f"{group} path", [f"{group}=../policy/baseline"], group, says="choose one of"),
            Case(f"{group} absolute", [f"{group}=/etc/passwd"], group, says="choose one of"),
            Case(f"{group} misspelt", [f"{group}={first}s"], group, says=f"did you mean {first}"),
            Case(f"{group} number", [f"{group}=1"], group, says="choose one of"),
            Case(f"{group} list", [f"{group}=[{first}]"], group, says="choose one of"),
            Case(f"{group} added", [f"+{group}={first}"], group, says="without +"),
            Case(f"{group} package", [f"{group}@x={first}"], group, says="package"),
            Case(f"{group} sweep without -m", [f"{group}={first},{first}"], group, says="add -m"),
            Case(f"{group} bad option in sweep", ["-m", f"{group}={first},nope"], group, says="choose one of"),
        ]
        if group != "district":
            cases += [Case(f"{group} null", [f"{group}=null"], group, says="choose one of"),
                      Case(f"{group} removed", [f"~{group}"], group, says="cannot be removed")]
    cases += [
        Case("experiment without +", ["experiment=one_cent"], "experiment", says="+experiment"),
        Case("experiment missing", ["+experiment=nope"], "experiment", says="choose one of"),
        Case("experiment path", ["+experiment=../community/township"], "experiment", says="choose one of"),
        Case("unknown group", ["foo/bar=1"], "foo/bar"),
        Case("unknown key", ["polcy=micro_fund"], "polcy", says="did you mean policy"),
        Case("unknown key added", ["+polcy=micro_fund"], "polcy", says="did you mean policy"),
        Case("deep misspelt lever", ["+policy.micro_fund.fen_per_units=5"], "policy.micro_fund.fen_per_units",
             says="did you mean policy.micro_fund.fen_per_unit"),
        Case("unknown community key", ["+community.foo=1"], "community.foo"),
        Case("target injection", ["+policy._target_=os.system"], "policy._target_"),
        Case("top-level target", ["+_target_=os.system"], "_target_"),
        Case("forced unknown", ["++policy.fund.foo=1"], "policy.fund.foo"),
        Case("existing key added", ["+steps=3"], "steps", says="without +"),
        Case("parameter removed", ["~steps"], "steps", says="cannot be removed"),
        Case("section as value", ["policy.fund=3"], "policy.fund", says="is a section"),
        Case("unknown key in a section", ["policy.fund={foo: 1}"], "policy.fund.foo"),
        Case("bad value in a section", ["community={residents: abc}"], "community.residents", says="not an integer"),
        Case("label in a section", ["policy={name: x}"], "policy.name", says="set by its file"),
        Case("broken interpolation", ["steps=${nope"], "steps", says="cannot read"),
        Case("unterminated list", ["steps=[1,"], "steps", says="cannot read"),
        Case("unset environment variable", ["steps=${oc.env:FIVE_SOCIETY_SURELY_UNSET}"], "steps",
             says="cannot be resolved"),
        Case("interpolation out of range", ["steps=${seed}"], "steps", says="out of range"),
        Case("sweep without -m", ["seed=1,2"], "seed", says="add -m"),
        Case("range without -m", ["seed=range(0,3)"], "seed", says="add -m"),
        Case("glob on a parameter", ["-m", "seed=glob(*)"], "seed"),
        Case("bad value in a sweep", ["-m", "seed=0,-1"], "seed", says="out of range"),
        Case("bad value in a range", ["-m", "steps=range(0,3)"], "steps", says="out of range"),
        Case("misspelt key in a sweep", ["-m", "policy.micro_fund.fen_per_units=1,2"],
             "policy.micro_fund.fen_per_units", says="did you mean"),
        Case("overwrite in a sweep", ["-m", "overwrite=true", "seed=1,2"], "overwrite", says="single run"),
        Case("district keys under a district sweep with none", ["-m", "district=null,small_district",
                                                                "district.station_social_workers=3"],
             "district.station_social_workers", says="no district"),
        # refused once the config is built, or by Hydra itself: the folder Hydra made is removed
        Case("rule across values, run folder outside", ["community.households=20000", "progress=false", "steps=2",
                                                        f"hydra.run.dir=ABS/{OUTSIDE}/a/b/run"],
             "community.households", says="exceeds"),
        Case("rule across values, default folder", ["policy.fund.needy_share=0.9", "steps=2", "progress=false"],
             "policy.fund.needy_share", says="must sum to 1"),
        Case("Hydra interpolation of the wrong type", ["seed=${hydra:runtime.choices.policy}", "steps=2",
                                                      "progress=false", "hydra.run.dir=r"], "seed"),
        Case("Hydra's own group", ["hydra/launcher=nope"], "hydra/launcher", says="choose one of"),
        # issue 29: input holes
        Case("seed of 10,000 digits", ["seed=" + "9" * 10_000], "seed", says="cannot read"),
        Case("range step 0", ["-m", "seed=range(0,5,0)"], "seed", says="step is 0"),
        Case("empty range", ["-m", "seed=range(5,0)"], "seed", says="no jobs"),
        Case("empty glob", ["-m", "policy=glob(nope*)"], "policy", says="no jobs"),
        Case("a hundred million jobs", ["-m", "seed=range(0,100000000)"], "sweep.max_jobs", says="100,000,000 jobs"),
        Case("above a lowered limit", ["-m", "seed=range(0,20)", "policy=baseline,micro_fund", "sweep.max_jobs=10"],
             "sweep.max_jobs", says="40 jobs"),
        Case("rerun of any file", ["--experimental-rerun", "/etc/passwd"], "--experimental-rerun",
             says="not supported"),
        Case("sweeper params on the command line", ["-m", "hydra.sweeper.params={seed: '0,1'}"],
             "hydra.sweeper.params", says="cannot be set on the command line"),
        Case("key given twice", ["seed=1", "seed=2"], "seed", says="given twice"),
        Case("key given twice in a sweep", ["-m", "seed=1,2", "seed=3"], "seed", says="given twice"),
        Case("group given twice", ["policy=baseline", "policy=micro_fund"], "policy", says="given twice"),
        Case("empty run folder", ["hydra.run.dir=", "steps=2"], "hydra.run.dir", says="is empty"),
        Case("empty sweep folder", ["-m", "hydra.sweep.dir=", "seed=0"], "hydra.sweep.dir", says="is empty"),
        Case("launcher by path", ["-m", "hydra/launcher=../../policy/baseline", "seed=0"], "hydra/launcher",
             says="choose one of"),
        Case("sweeper by path", ["-m", "hydra/sweeper=../launcher/joblib", "seed=0"], "hydra/sweeper",
             says="choose one of"),
        Case("unknown Hydra group", ["hydra/nope=x"], "hydra/nope", says="Hydra's config groups"),
        Case("finished run in the folder", ["hydra.run.dir=done", "steps=2", "progress=false"], "overwrite",
             setup="finished_run", says="already holds a finished run"),
        Case("run folder under a file", ["hydra.run.dir=blocker/run", "steps=2"], "hydra.run.dir", setup="blocker"),
        Case("run folder under a file, found by Hydra", ["hydra.run.dir=${oc.env:FIVE_SOCIETY_UNSET,blocker}/run",
                                                         "steps=2"], "blocker", setup="blocker", says="nothing ran"),
        Case("results folder not writable", ["steps=2"], "permission denied", fault="read_only"),
        Case("disk full", ["hydra.run.dir=full/run", "steps=2", "progress=false"], "No space left", code=3,
             fault="disk_full"),
        Case("Ctrl-C", ["hydra.run.dir=stopped/run", "steps=20", "progress=false"], "interrupted", code=130,
             fault="interrupt"),
    ]
    return cases


# --------------------------------------------------------------------------------------------
# the driver (runs in one subprocess, in an empty working directory)
# --------------------------------------------------------------------------------------------
def _tree(*folders: Path) -> set[str]:
    return {str(p) for folder in folders if folder.exists() for p in folder.rglob("*")}


@contextlib.contextmanager
def _fault(kind: str):
    """Make the run fail as a full disk or a Ctrl-C would."""
    if kind == "disk_full":
        real = os.replace

        def replace(src, dst, *args, **kwargs):
            if str(dst).endswith("kpis.json"):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
            return real(src, dst, *args, **kwargs)
        os.replace = replace
        try:
            yield
        finally:
            os.replace = real
    elif kind == "interrupt":
        from sim.model.community_model import CommunityModel

        real_step = CommunityModel.step

        def step(self):
            if self.week >= 3:
                raise KeyboardInterrupt
            real_step(self)
        CommunityModel.step = step
        try:
            yield
        finally:
            CommunityModel.step = real_step
    elif kind == "read_only":
        real_access = os.access
        os.access = lambda path, mode, **kwargs: False if mode & os.W_OK else real_access(path, mode, **kwargs)
        try:
            yield
        finally:
            os.access = real_access
    else:
        yield


def drive(cases_file: str) -> None:
    """Run each case through :func:`sim.runs.cli.main`; print one JSON line of results per case."""
    from hydra.core.global_hydra import GlobalHydra

    from sim.runs import cli

    here, outside = Path.cwd(), Path.cwd().parent / OUTSIDE
    for data in json.loads(Path(cases_file).read_text(encoding="utf-8")):
        case = Case(**data)
        argv = [a.replace("ABS/", f"{here.parent}/") for a in case.argv]
        if case.setup == "finished_run":
            done = here / "done"
            done.mkdir(exist_ok=True)
            (done / "manifest.json").write_text("{}", encoding="utf-8")
        elif case.setup == "blocker":
            (here / "blocker").write_text("", encoding="utf-8")
        before = _tree(here, outside)
        out, err = io.StringIO(), io.StringIO()
        code: int | str
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _fault(case.fault):
            try:
                cli.main(argv)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else str(exc.code)
            except BaseException:  # recorded: the test fails on it
                code = "exception"
                err.write(traceback.format_exc())
        GlobalHydra.instance().clear()
        new = sorted(_tree(here, outside) - before)
        print(json.dumps({"id": case.id, "code": code, "stderr": err.getvalue(), "new": new}), flush=True)


# --------------------------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------------------------
def test_table_has_hundreds_of_generated_cases():
    cases = generate_cases()
    assert len(cases) >= 400
    assert len({c.id for c in cases}) == len(cases), "case ids must be unique"


def test_every_bad_override_is_refused_cleanly(tmp_path):
    _check_cases(tmp_path, generate_cases())


def _check_cases(tmp_path: Path, cases: list[Case]) -> None:
    spec = tmp_path / "cases.json"
    spec.write_text(json.dumps([dataclasses.asdict(c) for c in cases]), encoding="utf-8")
    cwd = tmp_path / "work"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, str(spec)], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=600)
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = {r["id"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert set(results) == {c.id for c in cases}
    problems = []
    for case in cases:
        r = results[case.id]
        lines = r["stderr"].strip().splitlines()
        wrong = []
        if r["code"] != case.code:
            wrong.append(f"exit {r['code']} (want {case.code})")
        if "Traceback" in r["stderr"]:
            wrong.append("traceback")
        if len(lines) != 1:
            wrong.append(f"{len(lines)} lines on stderr")
        elif case.named not in lines[0] or case.says not in lines[0]:
            wrong.append(f"message does not name {case.named!r} / say {case.says!r}")
        if r["new"]:
            wrong.append(f"left behind: {r['new'][:3]}")
        if wrong:
            problems.append(f"{case.id} {case.argv}: {'; '.join(wrong)}\n    {r['stderr'].strip()[:300]}")
    assert not problems, f"{len(problems)} of {len(cases)} cases:\n" + "\n".join(problems[:40])
    assert not any(cwd.iterdir()) or {p.name for p in cwd.iterdir()} <= {"done", "blocker"}
    print(f"{len(cases)} bad command lines checked in {seconds:.1f} s")


def _as_sweep(case: Case) -> Case | None:
    """The same bad input given to a sweep (``-m``), where it is refused the same way before any job."""
    text = " ".join(case.argv)
    if (case.setup or case.fault or "-m" in case.argv or "progress=false" in text or "hydra." in text
            or "without -m" in case.id or case.id.startswith("rerun")):
        return None
    keys = {a.partition("=")[0].lstrip("+~") for a in case.argv}
    swept = next(s for s in ("seed=0,1", "steps=3,4", "lang=en,zh") if s.partition("=")[0] not in keys)
    return dataclasses.replace(case, id=f"sweep: {case.id}", argv=["-m", *case.argv, swept])


def test_every_bad_override_is_refused_cleanly_in_a_sweep(tmp_path):
    """The generated table again, each bad input in a sweep of two jobs: refused before any job, naming the key."""
    cases = [c for c in map(_as_sweep, generate_cases()) if c is not None]
    assert len(cases) >= 400
    _check_cases(tmp_path, cases)


def test_ctrl_c_during_a_run_leaves_no_folder(tmp_path):
    """A real SIGINT while the model runs: exit 130, one line, the run folder removed.

    The child gets SIGINT's default disposition, as a command typed at a terminal has: when the tests themselves
    run in the background (``cmd &`` in a script, nohup), SIGINT is ignored, the child inherits that and Python
    then raises no KeyboardInterrupt (the run would finish, exit 0, and this test would fail for no fault of
    the CLI's).
    """
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    proc = subprocess.Popen([sys.executable, "-m", "sim", "steps=5200",
                             "hydra.run.dir=a/run"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (tmp_path / "a" / "run").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # well inside the 5,200 weeks
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


if __name__ == "__main__":
    drive(sys.argv[1])
