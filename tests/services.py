"""Throwaway servers for the test-suite: a PostgreSQL cluster and a Redis server on 127.0.0.1.

`python -m tests.services [--postgresql] [--redis] -- COMMAND…` starts them in a temporary
directory, runs COMMAND with their addresses in the environment (`DIALOG_TEST_POSTGRESQL`,
`DIALOG_TEST_REDIS`), stops them and exits with COMMAND's status. `make test` runs the suite this
way; the fixtures in tests/conftest.py read those variables (and start a Redis of their own for the
Redis tests when none was given). A server that cannot start is an error, never a skip.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

PG_ENV = "DIALOG_TEST_POSTGRESQL"  # postgresql+psycopg://…/postgres: a superuser on the throwaway cluster
REDIS_ENV = "DIALOG_TEST_REDIS"  # redis://127.0.0.1:PORT


class ServiceError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, name: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceError(f"{name} exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise ServiceError(f"{name} did not listen on 127.0.0.1:{port} within {seconds} s")


def postgresql_bindir() -> Path:
    """Debian keeps the server programs in /usr/lib/postgresql/<major>/bin (not on PATH)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if candidates:
        return candidates[-1].parent
    found = shutil.which("postgres")
    if found:
        return Path(found).parent
    raise ServiceError("PostgreSQL's server is not installed (Debian: apt-get install postgresql)")


def _run_as_owner(args: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as `postgres` (Debian's account) then."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return args


@contextmanager
def postgresql(base_dir: Path):
    """A cluster in `base_dir` on a free port; yields the superuser's SQLAlchemy URL."""
    bindir = postgresql_bindir()
    data = base_dir / "pgdata"
    sockets = base_dir / "pgsocket"
    data.mkdir(parents=True)
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base_dir, "postgres")
        for path in (data, sockets):
            shutil.chown(path, "postgres")
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER") or "postgres"
    subprocess.run(
        _run_as_owner([str(bindir / "initdb"), "-D", str(data), "-U", user, "-A", "trust", "-E", "UTF8",
                       "--locale=C.UTF-8", "--no-sync"]),
        check=True, capture_output=True, timeout=120,
    )
    port = free_port()
    # Durability is worth nothing in a throwaway cluster: without fsync the suite runs much faster.
    options = ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
               "-c", "max_connections=300", "-c", f"unix_socket_directories={sockets}",
               "-c", "listen_addresses=127.0.0.1", "-p", str(port)]
    log = open(base_dir / "postgresql.log", "wb")  # noqa: SIM115 – open for the server's lifetime
    process = subprocess.Popen(_run_as_owner([str(bindir / "postgres"), "-D", str(data), *options]),
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_port(port, process, "PostgreSQL")
        url = f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres"
        _wait_until_accepting(url)
        yield url
    finally:
        _stop(process)
        log.close()


def _wait_until_accepting(url: str, seconds: float = 30) -> None:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + seconds
    while True:
        try:
            psycopg.connect(dsn, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def redis_executable() -> str:
    found = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(found).exists():
        raise ServiceError("redis-server is not installed (Debian: apt-get install redis-server)")
    return found


@contextmanager
def redis(base_dir: Path):
    """A Redis server on a free port, nothing persisted; yields its URL."""
    base_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(
        [redis_executable(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(base_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        _wait_for_port(port, process, "redis-server")
        yield f"redis://127.0.0.1:{port}"
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # postgres: "smart" shutdown would wait for clients
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def started(*, want_postgresql: bool, want_redis: bool):
    """Both servers as asked, in one temporary directory removed afterwards; yields the environment."""
    with ExitStack() as stack:
        base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dialog-services-")))
        base.chmod(0o755)  # the cluster's own account (postgres, when we are root) must reach its folder
        env = {}
        if want_postgresql:
            env[PG_ENV] = stack.enter_context(postgresql(base / "postgresql"))
        if want_redis:
            env[REDIS_ENV] = stack.enter_context(redis(base / "redis"))
        yield env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--redis", action="store_true")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    try:
        with started(want_postgresql=args.postgresql, want_redis=args.redis) as env:
            for key, value in env.items():
                print(f"tests.services: {key}={value}", file=sys.stderr)
            return subprocess.call(command, env={**os.environ, **env})
    except (ServiceError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        print(f"tests.services: {exc}\n{detail.decode(errors='replace')}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
