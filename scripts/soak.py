"""Kill-and-concurrency soak of one results store (run by scripts/soak.sh).

Keeps PROCESSES `assay` commands running against one store — suite runs (BLEU, chrF and BLEU with
a bootstrap interval over our own sentences, each writing its reports), ratings imports, readers —
and SIGKILLs random ones at random moments until KILLS processes were killed. Then one more
command lets the store finish what the killed runs left, and the script checks:

- `PRAGMA integrity_check` is ok;
- every finished run (pass/fail/error) is whole: its evaluations, metrics and items rows as an
  uninterrupted run has them, no pending reports, and its JSON, Markdown and HTML reports in place
  (the JSON naming the run);
- every other run is `incomplete` with no result rows;
- every ratings set holds all its ratings or does not exist;
- no pending or temporary file is left in the reports directory, and no JSON report names a run
  the store has not finished;
- with 100 kills or more, at least one finished run had its reports moved into place by a later
  command (`assay run` pauses SOAK_PAUSE_MS, default 40, between its commit and its renames, so
  that kills land there).

Exits 1 listing what failed. Usage: soak.py ASSAY_BINARY PROCESSES KILLS WORKDIR
"""
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    assay, processes, kills, work = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    mt = os.path.join(ROOT, "Fixtures", "mt")
    with open(os.path.join(work, "suite.yaml"), "w") as f:
        f.write(f"""version: 1
name: soak
datasets:
  mt: {{ kind: parallel, hypotheses: {mt}/system-a.txt, references: [{mt}/reference.txt] }}
evaluations:
  - {{ id: bleu, evaluator: bleu, dataset: mt }}
  - {{ id: chrf, evaluator: chrf, dataset: mt, options: {{ word_order: 2 }} }}
  - {{ id: bleu-ci, evaluator: bleu, dataset: mt, options: {{ confidence: true }} }}
gates:
  - {{ metric: bleu.score, min: 1 }}
""")
    ratings = os.path.join(ROOT, "Fixtures", "ratings", "quickstart.csv")
    expected_ratings = sum(1 for _ in open(ratings)) - 1
    store = os.path.join(work, "store.sqlite")
    # A pause between the commit and the renames, so that kills land there too.
    env = dict(os.environ, ASSAY_PROGRESS="never", ASSAY_SOAK_PAUSE_AFTER_COMMIT_MS=os.environ.get("SOAK_PAUSE_MS", "40"))

    def start(kind, n):
        if kind == "run":
            args = [assay, "run", "suite.yaml", "--store", store, "--out", "reports", "--junit", "reports/junit.xml", "--format", "text"]
        elif kind == "ratings":
            args = [assay, "ratings", "import", ratings, "--set", f"set-{n}", "--scale", "1,2,3,4,5", "--store", store]
        else:
            args = [assay, "history", "--store", store, "--format", "json"]
        return subprocess.Popen(args, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    random.seed(int(os.environ.get("SOAK_SEED", "7")))
    running, killed, killed_runs, started, failures = [], 0, 0, 0, []
    deadline = time.time() + float(os.environ.get("SOAK_SECONDS", "1200"))
    while killed < kills and time.time() < deadline:
        while len(running) < processes:
            kind = random.choices(["run", "ratings", "reader"], [6, 2, 2])[0]
            running.append((kind, start(kind, started), time.time() + random.uniform(0.0, 0.6)))
            started += 1
        time.sleep(0.005)
        still = []
        for kind, p, kill_at in running:
            code = p.poll()
            if code is None and time.time() >= kill_at and random.random() < 0.7:
                p.send_signal(signal.SIGKILL)
                p.wait()
                killed += 1
                killed_runs += kind == "run"
            elif code is None:
                still.append((kind, p, kill_at))
            elif code not in (0, 1):
                failures.append(f"{kind} exited {code}: {p.stderr.read().decode(errors='replace')[-400:]}")
        running = still
    for kind, p, _ in running:
        p.wait()
    # One more command: the store finishes what killed runs left.
    subprocess.run([assay, "history", "--store", store], cwd=work, env=env, stdout=subprocess.DEVNULL, check=True)
    # A run nothing interrupted, for the expected row counts.
    subprocess.run([assay, "run", "suite.yaml", "--store", store, "--out", "reports", "--format", "text"], cwd=work, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    db = sqlite3.connect(store)
    check = db.execute("PRAGMA integrity_check").fetchone()[0]
    if check != "ok":
        failures.append(f"integrity_check: {check}")
    counts = {}
    for run_id, status, report, pending in db.execute("SELECT id, status, report_path, pending_reports FROM runs"):
        rows = tuple(db.execute(f"SELECT COUNT(*) FROM {t} WHERE run_id = ?", (run_id,)).fetchone()[0] for t in ("evaluations", "metrics", "items"))
        if status == "incomplete":
            if any(rows):
                failures.append(f"incomplete run {run_id} has result rows {rows}")
            continue
        counts.setdefault(rows, []).append(run_id)
        if pending is not None:
            failures.append(f"run {run_id} ({status}) still has pending reports")
        for suffix in (".json", ".md", ".html"):
            path = report[: -len(".json")] + suffix if report else None
            if not path or not os.path.exists(path):
                failures.append(f"run {run_id} ({status}) lacks its report {path}")
        if report and os.path.exists(report) and json.load(open(report))["run_id"] != run_id:
            failures.append(f"{report} does not hold run {run_id}")
    if len(counts) > 1:
        failures.append(f"finished runs differ in their rows (evaluations, metrics, items): {sorted(counts)}")
    for name, n in db.execute("SELECT s.name, COUNT(r.item) FROM rating_sets s LEFT JOIN ratings r ON r.set_name = s.name GROUP BY s.name"):
        if n != expected_ratings:
            failures.append(f"ratings set {name} holds {n} of {expected_ratings} ratings")
    # No report claims a run the store does not have as finished.
    finished = {row[0] for row in db.execute("SELECT id FROM runs WHERE status != 'incomplete'")}
    for d, _, files in os.walk(os.path.join(work, "reports")):
        for f in files:
            if f.endswith(".json") and f[: -len(".json")] not in finished:
                failures.append(f"report {f} names a run the store has not finished")
    recovered = db.execute("SELECT COUNT(*) FROM runs WHERE reports_recovered = 'moved'").fetchone()[0]
    cleaned = db.execute("SELECT COUNT(*) FROM runs WHERE status = 'incomplete' AND pid IS NULL").fetchone()[0]
    leftovers = [os.path.join(d, f) for d, _, files in os.walk(os.path.join(work, "reports")) for f in files
                 if f.endswith(".pending") or f.endswith(".tmp")]
    if leftovers:
        failures.append(f"{len(leftovers)} pending or temporary files left, e.g. {leftovers[:3]}")
    statuses = dict(db.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall())
    sets = db.execute("SELECT COUNT(*) FROM rating_sets").fetchone()[0]
    print(f"soak: {started} processes started, {killed} killed ({killed_runs} runs); runs by status {statuses}; "
          f"{recovered} finished runs had their reports moved by a later command; {cleaned} killed runs cleaned; {sets} ratings sets")
    if killed < kills:
        failures.append(f"only {killed} of {kills} kills before the time limit")
    # With enough kills, some land between a run's commit and its renames: the recovery must have run.
    if kills >= 100 and recovered == 0:
        failures.append("no kill landed between a commit and the renames: the recovery was not exercised (raise SOAK_PAUSE_MS)")
    if len(finished) < 2:
        failures.append("fewer than two finished runs: the kills left nothing to check")
    for failure in failures:
        print("FAIL:", failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
