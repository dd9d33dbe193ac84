"""Helpers of the importer's tests: running `xomify-api import-dynamodb` (its output kept with the rig's logs,
for the secret scans), reading its summary and its log lines, a fingerprint of every row the import may touch,
and what a generated export must make the importer report."""

import collections
import os
import re
import subprocess

from dynamodb_export import NOT_AN_ITEM, USERS, WEEKS, WRAPS
from xomify_rig import bin_dir

TABLES = (USERS, WRAPS, WEEKS)


class ImportRun:
    def __init__(self, result, peak_kib):
        self.returncode = result.returncode
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.peak_kib = peak_kib

    @property
    def counts(self):
        return summary_counts(self.stdout)

    @property
    def skips(self):
        """(table, key, reason) of every "record skipped" log line."""
        return [(f["table"], f["key"], f["reason"]) for f in log_lines(self.stderr) if f.get("msg") == "record skipped"]

    @property
    def records_per_second(self):
        match = re.search(r"(\d+) records in ([\d.]+) s \((\d+) records/s\)", self.stdout)
        return int(match[3]) if match else None


def run_import(rig, *args, timeout=600):
    """Runs the importer under /usr/bin/time (for its peak memory) with the rig's settings."""
    command = [os.path.join(bin_dir(), "xomify-api"), "import-dynamodb", *[str(a) for a in args]]
    timed = os.path.exists("/usr/bin/time")
    if timed:
        command = ["/usr/bin/time", "-f", "peak-kib=%M"] + command
    result = subprocess.run(command, env=rig.settings(), capture_output=True, text=True, timeout=timeout)
    peak = None
    if timed:
        lines = result.stderr.rstrip("\n").split("\n")
        if lines and lines[-1].startswith("peak-kib="):
            peak = int(lines[-1].split("=")[1])
            result.stderr = "\n".join(lines[:-1]) + "\n"
    with open(os.path.join(rig.directory, "import.log"), "a") as log:
        log.write(result.stdout + result.stderr)
    return ImportRun(result, peak)


def summary_counts(stdout):
    """{table: {read, imported, unchanged, skipped, reasons: {reason: n}}} from the summary."""
    counts = {}
    current = None
    for line in stdout.splitlines():
        match = re.match(r"\s+(xomify-[a-z-]+)\s+read (\d+)\s+imported (\d+)\s+unchanged (\d+)\s+skipped (\d+)$", line)
        if match:
            current = match[1]
            counts[current] = {"read": int(match[2]), "imported": int(match[3]), "unchanged": int(match[4]),
                               "skipped": int(match[5]), "reasons": {}}
            continue
        match = re.match(r"\s+skipped, (.+): (\d+)$", line)
        if match and current:
            counts[current]["reasons"][match[1]] = int(match[2])
    return counts


_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


def log_lines(text):
    """The structured log lines (`key=value`, values quoted when needed) as dicts."""
    lines = []
    for line in text.splitlines():
        if "level=" not in line:
            continue
        fields = {}
        for name, value in _FIELD.findall(line):
            if value.startswith('"'):
                value = re.sub(r'\\(.)', lambda m: {"n": "\n", "r": "\r", "t": "\t"}.get(m[1], m[1]), value[1:-1])
            fields[name] = value
        lines.append(fields)
    return lines


def expected_report(export, scan, bad_line=False, dry_run_counts=False):
    """What the import of the whole export must print: per table, read, imported (valid records) and skipped by
    reason; and the (table, key, reason) of every skipped record."""
    counts, skips = {}, []
    for table in TABLES:
        written = export.written(table, scan)
        reasons = collections.Counter(r.reason for r in written if r.reason)
        skips += [(table, export.log_key(r), r.reason) for r in written if r.reason]
        read = len(written)
        if bad_line and table == WRAPS:
            read += 1
            reasons[NOT_AN_ITEM] += 1
        counts[table] = {"read": read, "valid": read - sum(reasons.values()), "reasons": dict(reasons)}
    return counts, skips


def fingerprint(rig):
    """Every row the import may touch, with its revisions, timestamps and xmin (which moves with any rewrite of
    a row, even one that changes nothing): equal fingerprints mean nothing was written. (The `revisions`
    sequence is not part of it: an upsert that finds its row takes a number it does not use.)"""
    return rig.postgres.psql("""
        SELECT (SELECT md5(coalesce(string_agg(concat_ws('|', email, revision, wraps_revision, weeks_revision, created_at,
                                                         updated_at, token_state_at, xmin), ',' ORDER BY email), ''))
                FROM users),
               (SELECT md5(coalesce(string_agg(concat_ws('|', email, month_key, revision, xmin), ','
                                               ORDER BY email, month_key), '')) FROM wrapped_months),
               (SELECT md5(coalesce(string_agg(concat_ws('|', email, week_key, xmin), ',' ORDER BY email, week_key), ''))
                FROM release_radar_weeks)
        """).strip()


def row_counts(rig):
    return [int(x) for x in rig.postgres.psql(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM wrapped_months), "
        "(SELECT count(*) FROM release_radar_weeks)").strip().split("|")]


def pg_dump(rig):
    """The database's data as pg_dump writes it (bytea as hex)."""
    return subprocess.run(["pg_dump", "-h", "127.0.0.1", "-p", str(rig.postgres.port), "-U", "postgres", "--data-only",
                           "xomify"], check=True, capture_output=True, text=True).stdout
