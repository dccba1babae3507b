"""Scrapyd: deploy the project egg, schedule a replay crawl over the HTTP API, find its items.

Scrapyd runs on 127.0.0.1 in a temporary directory. The project is deployed the
way a user deploys it — ``scrapyd-deploy`` in a copy of the project whose
``scrapy.cfg`` [deploy] URL points at this Scrapyd (a copy, so the build
leaves nothing in the repository). The crawl is scheduled with
``schedule.json``, passing absolute REPLAY_DIR / EMBEDDED_DB_DIR as ``setting=``.

Waiting is event-driven: Scrapyd's log lines are read as they come — "Site
starting on <port>" before the first request, "Process finished: … job=<id>"
when the crawl ends — and the job list (``listjobs.json``) then confirms the
job finished. A bounded number of lines or an idle log stream (no line for
120 s) ends a wait with a failure; nothing sleeps.
"""
from __future__ import annotations

import json
import queue
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
import requests

from tests.test_incremental import FIXTURES_021CF, ROOT, crawl_env, open_test_store

BIN = Path(sys.executable).parent
MAX_LOG_LINES = 5000


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Scrapyd:
    """A Scrapyd process whose log lines arrive on a queue (read by a thread, so waits can be bounded)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self.log: list[str] = []
        self.process: Optional[subprocess.Popen[str]] = None

    def start(self) -> "Scrapyd":
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "scrapyd.conf").write_text(
            "[scrapyd]\n"
            "bind_address = 127.0.0.1\n"
            f"http_port = {self.port}\n"
            f"eggs_dir = {self.home / 'eggs'}\n"
            f"logs_dir = {self.home / 'logs'}\n"
            f"dbs_dir = {self.home / 'dbs'}\n"
            "items_dir =\n"
            # Scrapyd's own queue poller period (its timer, not a wait in this test).
            "poll_interval = 0.2\n",
            encoding="utf-8",
        )
        env = crawl_env()
        env.pop("PYTHONPATH")  # the job must import kspider from the deployed egg, not from the checkout
        env["PYTHONUNBUFFERED"] = "1"  # each log line reaches the pipe as it is written
        self.process = subprocess.Popen([str(BIN / "scrapyd")], cwd=self.home, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for_line(f"starting on {self.port}")
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_lines(self) -> Iterator[str]:
        """Scrapyd's log lines as they arrive; ends when Scrapyd exits, fails when it falls silent."""
        for _ in range(MAX_LOG_LINES):
            try:
                line = self.lines.get(timeout=120)
            except queue.Empty:
                pytest.fail("Scrapyd logged nothing for 120 s:\n" + "\n".join(self.log[-40:]))
            if line is None:
                return
            self.log.append(line)
            yield line
        pytest.fail(f"no outcome after {MAX_LOG_LINES} Scrapyd log lines")

    def wait_for_line(self, text: str) -> str:
        for line in self.next_lines():
            if text in line:
                return line
        pytest.fail(f"Scrapyd exited before logging {text!r}:\n" + "\n".join(self.log[-40:]))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)


@pytest.fixture
def scrapyd(tmp_path) -> Iterator[Scrapyd]:
    server = Scrapyd(tmp_path / "scrapyd").start()
    yield server
    server.stop()


def deploy(project_copy: Path, url: str) -> dict[str, Any]:
    """`scrapyd-deploy` from a copy of the project with its [deploy] URL set to `url`."""
    project_copy.mkdir()
    shutil.copytree(ROOT / "kspider", project_copy / "kspider", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "setup.py", project_copy / "setup.py")
    cfg = (ROOT / "scrapy.cfg").read_text(encoding="utf-8")
    assert "url = http://127.0.0.1:6800/" in cfg  # the [deploy] target users get
    (project_copy / "scrapy.cfg").write_text(cfg.replace("http://127.0.0.1:6800/", url + "/"), encoding="utf-8")
    env = crawl_env()
    env.pop("PYTHONPATH")
    proc = subprocess.run([str(BIN / "scrapyd-deploy"), "--version", "r1"], cwd=project_copy, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # scrapyd-deploy prints the server's JSON answer on stdout.
    return json.loads(proc.stdout[proc.stdout.index("{"):])


# In a deployed egg the package is a zip file: data must be read with importlib.resources, not
# through Path(__file__). Until kspider/extract/gazetteer.py does, ad extraction fails under Scrapyd.
def test_deploy_schedule_and_find_items_in_store(scrapyd, tmp_path):
    answer = deploy(tmp_path / "project", scrapyd.url)
    assert answer["status"] == "ok" and answer["project"] == "kspider" and answer["version"] == "r1"
    assert answer["spiders"] == 4  # 021cf, jssuxun, matchexpo, xinjiapo

    spiders = requests.get(f"{scrapyd.url}/listspiders.json", params={"project": "kspider"}, timeout=30).json()  # allowed: Scrapyd on 127.0.0.1
    assert sorted(spiders["spiders"]) == ["021cf", "jssuxun", "matchexpo", "xinjiapo"]

    work = tmp_path / "job"
    settings = {
        "REPLAY_DIR": str(FIXTURES_021CF),
        "EMBEDDED_DB_DIR": str(work / "db"),
        "SPILL_DIR": str(work / "spill"),
        "STATS_FILE": str(work / "stats.json"),
        "SPIDERMON_REPORT_FILE": str(work / "report.json"),
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "0",
    }
    scheduled = requests.post(
        f"{scrapyd.url}/schedule.json",
        data=[("project", "kspider"), ("spider", "021cf")] + [("setting", f"{k}={v}") for k, v in settings.items()],
        timeout=30,
    ).json()
    assert scheduled["status"] == "ok", scheduled
    job = scheduled["jobid"]

    # Scrapyd logs "Process finished: ... job='<id>'" (or "Process died") when the crawl process ends.
    ended = next((line for line in scrapyd.next_lines() if job in line and "Process " in line
                  and ("finished" in line or "died" in line)), None)
    assert ended is not None and "Process finished" in ended, "\n".join(scrapyd.log[-40:])
    jobs = requests.get(f"{scrapyd.url}/listjobs.json", params={"project": "kspider"}, timeout=30).json()  # allowed: Scrapyd on 127.0.0.1
    finished = [j for j in jobs["finished"] if j["id"] == job]
    assert len(finished) == 1 and finished[0]["spider"] == "021cf", jobs
    assert not any(j["id"] == job for j in jobs["pending"] + jobs["running"])

    stats = json.loads((work / "stats.json").read_text(encoding="utf-8"))
    assert stats["finish_reason"] == "finished"
    assert stats["template/post_pages"] == 16
    assert stats["spidermon/failed"] == 0
    store = open_test_store(work)
    try:
        titles = {d["canonical_url"]: d["title"] for d in store.collections["articles"].find({})}
        ads = store.collections["rental_ads"].count_documents({})
    finally:
        store.close()
    assert len(titles) == 15 and ads >= 1
    assert titles["http://kunshanmaigao.021cf.cn/index.php/post/1873.html"] == "2024年嘉昆太协同创新核心圈轮值会议在太仓举行"
    # The job log Scrapyd kept names the deployed egg's settings at work.
    job_log = (scrapyd.home / "logs" / "kspider" / "021cf" / f"{job}.log").read_text(encoding="utf-8")
    assert "'BOT_NAME': 'kspider'" in job_log
