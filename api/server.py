"""Run the API under uvicorn; with several workers each process builds its own app from the settings it is given.

Several workers each listen on their own socket bound with SO_REUSEPORT, so the kernel spreads new connections
across them. With one shared socket (uvicorn's --workers) the worker that wakes first accepts every pending
connection and keeps its keep-alive clients: at 8 keep-alive connections two workers served 262 req/s that way
(one run) and 371–495 req/s with a socket each (five runs).
"""

from __future__ import annotations

import ipaddress
import logging
import multiprocessing
import signal
import socket
import threading
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as EventType
from types import FrameType

import uvicorn

from reportqa.core.settings import Settings

logger = logging.getLogger("reportqa.server")

GRACEFUL_SHUTDOWN_S = 10
KEEP_ALIVE_S = 30


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost; a wildcard (0.0.0.0, ::) or any other address is reachable from outside."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_problem(settings: Settings) -> str | None:
    """Why serving these settings would leave every route (uploads and deletes too) open to the network."""
    if is_loopback(settings.host) or settings.api_key is not None or settings.allow_open:
        return None
    return (f"refusing to serve on {settings.host} without an API key: anyone who can reach it could upload and "
            "delete documents. Set REPORTQA_API_KEY, bind to 127.0.0.1, or pass --allow-open")


def served_settings(settings: Settings) -> Settings:
    """The settings as served: a specific address the server is bound to is a Host name it answers to."""
    wildcard = settings.host in {"0.0.0.0", "::", ""}
    if wildcard or settings.host in settings.allowed_hosts:
        return settings
    return settings.model_copy(update={"allowed_hosts": [*settings.allowed_hosts, settings.host]})


def serve(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    problem = exposure_problem(settings)
    if problem:
        logger.error(problem)
        return 2
    if not is_loopback(settings.host) and settings.api_key is None:
        logger.warning("serving on %s with no API key (--allow-open): every route is open to the network",
                       settings.host)
    settings = served_settings(settings)
    if settings.workers <= 1:
        from reportqa.api.app import create_app

        uvicorn.run(create_app(settings, warm=True), host=settings.host, port=settings.port, access_log=False,
                    timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S, timeout_keep_alive=KEEP_ALIVE_S)
        return 0
    try:
        port = _free_port_check(settings.host, settings.port)
    except OSError as exc:
        logger.error("cannot listen on %s:%d: %s", settings.host, settings.port, exc)
        return 1
    return Supervisor(settings.model_copy(update={"port": port})).run()


def _reuseport_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _free_port_check(host: str, port: int) -> int:
    """Fail in the supervisor, with the OS's message, when the address is taken; port 0 picks one for all."""
    with _reuseport_socket(host, port) as probe:
        return int(probe.getsockname()[1])


class _WorkerServer(uvicorn.Server):
    """uvicorn's server, telling the supervisor once it has started (app loaded, socket served)."""

    def __init__(self, config: uvicorn.Config, ready: EventType) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._ready.set()


def run_worker(settings: Settings, ready: EventType) -> None:
    """One worker process, given its settings (pickled across the spawn): its own socket in the port's
    SO_REUSEPORT group, listening only once the app has started (uvicorn's server calls listen()): a socket
    listening during the warm-up had the kernel queue connections on a worker that could not answer them yet,
    and reset them if it was stopped meanwhile."""
    from reportqa.api.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sock = _reuseport_socket(settings.host, settings.port)
    config = uvicorn.Config(create_app(settings, warm=True), access_log=False,
                            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S, timeout_keep_alive=KEEP_ALIVE_S)
    _WorkerServer(config, ready).run(sockets=[sock])


@dataclass
class _Worker:
    process: BaseProcess
    ready: EventType


class Supervisor:
    """Starts the workers, replaces one that dies after start-up, and stops them all gracefully on a signal."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.host, self.port, self.n_workers = settings.host, settings.port, settings.workers
        self._context = multiprocessing.get_context("spawn")
        self._stop = threading.Event()

    def _start(self) -> _Worker:
        ready = self._context.Event()
        process = self._context.Process(target=run_worker, args=(self.settings, ready), daemon=False)
        process.start()
        return _Worker(process, ready)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        logger.info("supervisor received %s; stopping %d workers", signal.Signals(signum).name, self.n_workers)
        self._stop.set()

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)
        logger.info("serving on http://%s:%d with %d workers (SO_REUSEPORT)", self.host, self.port,
                    self.n_workers)
        workers = [self._start() for _ in range(self.n_workers)]
        status = 0
        while not self._stop.wait(0.5):
            for i, worker in enumerate(workers):
                code = worker.process.exitcode
                if code is None:
                    continue
                if not worker.ready.is_set():  # it never started: a new one would fail the same way
                    logger.error("worker %s exited with %s before it started; stopping", worker.process.pid, code)
                    status = 1
                    self._stop.set()
                    break
                logger.warning("worker %s exited with %s; starting a new one", worker.process.pid, code)
                workers[i] = self._start()
        self._stop_all([worker.process for worker in workers])
        return status

    @staticmethod
    def _stop_all(processes: list[BaseProcess]) -> None:
        for process in processes:
            if process.exitcode is None:
                process.terminate()  # SIGTERM: uvicorn finishes in-flight requests
        deadline = time.monotonic() + GRACEFUL_SHUTDOWN_S + 5
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.exitcode is None:
                logger.error("worker %s still running after the grace period; killing it", process.pid)
                process.kill()
                process.join()
