"""OpenLink Virtuoso 7 from Debian, run as a scratch instance: its own ini, database and free ports.

``VirtuosoServer`` copies the package's ``virtuoso.ini`` with every file path moved into a scratch
directory, both ports (ISQL, HTTP) on free loopback ports and the given ``[SPARQL]`` limits, starts
``virtuoso-t +foreground`` on it, waits until ``/sparql`` answers, and stops it (SIGTERM, then
SIGKILL). Nothing here installs anything: ``make virtuoso-deps`` does.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

VIRTUOSO = "/usr/bin/virtuoso-t"
ISQL = "/usr/bin/isql-vt"
PACKAGE_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
HOST = "127.0.0.1"
# The database administrator of a fresh Virtuoso database (the package's default account).
ADMIN_USER = "dba"
ADMIN_PASSWORD = "dba"


def installed() -> str | None:
    """None when Virtuoso can be run here, else what is missing."""
    for path in (Path(VIRTUOSO), Path(ISQL), PACKAGE_INI):
        if not path.exists():
            return f"{path} is missing (Debian package virtuoso-opensource)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_KEY = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=")


def rewrite_ini(template: str, values: Mapping[str, Mapping[str, str]]) -> str:
    """``template`` with ``values[section][key]`` set: existing keys replaced, missing ones added."""
    pending = {s: dict(kv) for s, kv in values.items()}
    out: list[str] = []
    section: str | None = None

    def flush(name: str | None) -> None:
        if name is not None and name in pending:
            out.extend(f"{k} = {v}" for k, v in pending.pop(name).items())

    for line in template.splitlines():
        found = _SECTION.match(line)
        if found:
            flush(section)
            section = found[1]
            out.append(line)
            continue
        key = _KEY.match(line)
        if section in pending and key and key[1] in pending[section]:
            out.append(f"{key[1]} = {pending[section].pop(key[1])}")
            continue
        out.append(line)
    flush(section)
    for name, kv in pending.items():
        out.append(f"[{name}]")
        out.extend(f"{k} = {v}" for k, v in kv.items())
    return "\n".join(out) + "\n"


@dataclass
class VirtuosoServer:
    """A scratch Virtuoso in ``directory`` (created); ``sparql`` limits go to the ini's [SPARQL]."""

    directory: Path
    sparql: Mapping[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    isql_port: int = 0
    http_port: int = 0

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.http_port}"

    @property
    def endpoint(self) -> str:
        return f"{self.origin}/sparql"

    @property
    def graph_store(self) -> str:
        """The Graph Store Protocol endpoint that takes writes (digest authentication)."""
        return f"{self.origin}/sparql-graph-crud-auth"

    def ini(self) -> str:
        db = self.directory / "db"
        template = PACKAGE_INI.read_text(encoding="utf-8", errors="replace")
        return rewrite_ini(
            template,
            {
                "Database": {
                    "DatabaseFile": str(db / "virtuoso.db"),
                    "ErrorLogFile": str(db / "virtuoso.log"),
                    "LockFile": str(db / "virtuoso.lck"),
                    "TransactionFile": str(db / "virtuoso.trx"),
                    "xa_persistent_file": str(db / "virtuoso.pxa"),
                },
                "TempDatabase": {
                    "DatabaseFile": str(db / "virtuoso-temp.db"),
                    "TransactionFile": str(db / "virtuoso-temp.trx"),
                },
                "Parameters": {
                    "ServerPort": f"{HOST}:{self.isql_port}",
                    "DirsAllowed": f"., {self.directory}, /usr/share/virtuoso-opensource-7/vad",
                    # Small buffers: a test database, on a machine shared with other work.
                    "NumberOfBuffers": "10000",
                    "MaxDirtyBuffers": "6000",
                },
                "HTTPServer": {
                    "ServerPort": f"{HOST}:{self.http_port}",
                    "ServerRoot": str(self.directory / "vsp"),
                },
                "SPARQL": dict(self.sparql),
            },
        )

    def start(self, timeout: float = 60.0) -> None:
        (self.directory / "db").mkdir(parents=True, exist_ok=True)
        (self.directory / "vsp").mkdir(exist_ok=True)
        self.isql_port, self.http_port = free_port(), free_port()
        config = self.directory / "virtuoso.ini"
        config.write_text(self.ini(), encoding="utf-8")
        log = (self.directory / "stdout.log").open("wb")
        try:
            self.process = subprocess.Popen(
                [VIRTUOSO, "+foreground", "+configfile", str(config)],
                cwd=self.directory / "db",
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        self.wait_ready(timeout)

    def set_sparql(self, values: Mapping[str, str]) -> None:
        """Change ``[SPARQL]`` settings of the running instance. Its ``/sparql`` handler reads them from
        the ini file at each request (``cfg_item_value``), so the next query has them; a query already
        running keeps those it started with. The file is replaced whole (a request never reads half)."""
        config = self.directory / "virtuoso.ini"
        changed = rewrite_ini(config.read_text(encoding="utf-8"), {"SPARQL": values})
        scratch = config.with_suffix(".ini.new")
        scratch.write_text(changed, encoding="utf-8")
        os.replace(scratch, config)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited ({self.process.returncode}): {self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                answer = httpx.get(self.endpoint, params={"query": "ASK {}"}, timeout=2.0)
                if answer.status_code == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"virtuoso-t did not answer within {timeout:g} s: {self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        texts = []
        for name in ("stdout.log", "db/virtuoso.log"):
            path = self.directory / name
            if path.exists():
                texts.append("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(texts)

    def isql(self, *statements: str, timeout: float = 60.0) -> str:
        """Run SQL statements through ``isql-vt`` as the administrator; RuntimeError on an error."""
        script = "".join(s.rstrip().rstrip(";") + ";\n" for s in statements)
        run = subprocess.run(
            [ISQL, f"{HOST}:{self.isql_port}", ADMIN_USER, ADMIN_PASSWORD, "VERBOSE=OFF", "BANNER=OFF"],
            input=script,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        output = run.stdout + run.stderr
        if run.returncode != 0 or "*** Error" in output:
            raise RuntimeError(f"isql-vt failed: {output[-2000:]}")
        return output

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
