"""Two pools behind one nginx (SPEC §11, issue 12): two sockets stand for two API hosts sharing one database, in
one `upstream`. A GET that cannot reach a pool (refused, or the connection lost before an answer) is passed to
the other one (`fastcgi_next_upstream error timeout`, idempotent requests only), so a host that goes away
entirely, supervisor and workers at once, costs no GET; the same host started again is given requests again."""

import json
import os
import re
import signal

from api_client import Api
from fastcgi_client import connect, read_answer, request
from request_loop import RequestLoop
from xomify_rig import REPO, wait_until

NGINX_DIR = os.path.join(REPO, "nginx")

# nginx marks a pool that failed as down for fail_timeout, then tries it again: short here, so that the test
# does not wait long for nginx to take the restarted pool back (production: max_fails=3 fail_timeout=10s).
UPSTREAM_OPTIONS = "max_fails=1 fail_timeout=1s"


class PoolStatus:
    """A pool's own status page, asked on its socket (not through nginx, which would pick either pool); counts
    its own requests, so that what nginx sent is told apart."""

    def __init__(self, socket_path):
        self.socket_path = socket_path
        self.asked = 0

    def accepted(self):
        with connect(self.socket_path) as sock:
            sock.sendall(request(path="/status"))
            answer = read_answer(sock, timeout=10)
        status, _, body = answer.http()
        assert status == 200, answer
        self.asked += 1
        return json.loads(body)["pool"]["acceptedRequests"]

    def from_nginx(self):
        """Requests the pool accepted other than these status requests (this one included)."""
        accepted = self.accepted()
        return accepted - self.asked


def take_host_down(process):
    """SIGKILL to the pool's whole process group: the supervisor and every worker at once, as when its host
    is lost. Returns once none of them is left."""
    group = os.getpgid(process.pid)
    os.killpg(group, signal.SIGKILL)
    process.wait(30)
    wait_until(lambda: not pids_in_group(group), 30, what="every process of the killed pool gone")


def pids_in_group(group):
    pids = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.getpgid(int(name)) == group:
                pids.append(int(name))
        except ProcessLookupError:
            pass
    return pids


def passed_on(access_log, path):
    """Access-log lines of requests nginx tried on two pools (`up=` lists both)."""
    with open(access_log) as f:
        return [line for line in f if f" {path} " in line and re.search(r"up=unix:\S+, unix:", line)]


def test_a_pool_host_lost_under_get_load_fails_no_get_and_rejoins_when_restarted(make_rig):
    rig = make_rig(sandbox=False, extra_pools=1, upstream_options=UPSTREAM_OPTIONS)
    email = "failover@xomify.test"
    token = rig.token(email, "failover-user")
    assert Api(rig.https_port, token=token).post("/user/update", {"userId": "failover-user",
                                                                  "refreshToken": "r" * 40}).status == 200
    first, second = PoolStatus(rig.socket), PoolStatus(rig.extra_sockets[0])
    access_log = os.path.join(rig.directory, "nginx-access.log")

    # Two loops of GETs: one answered by the pool alone, one reading the database.
    with RequestLoop(rig.https_port, "/ping", threads=4) as ping, \
            RequestLoop(rig.https_port, "/user/data", threads=2, token=token) as data:
        ping.wait_for(300)
        data.wait_for(100)
        # nginx spreads the requests over both pools.
        assert first.from_nginx() > 0 and second.from_nginx() > 0

        take_host_down(rig.extra_pools[0])
        done = len(ping.results) + len(data.results)
        ping.wait_for(len(ping.results) + 600)
        data.wait_for(len(data.results) + 200)
        # The first requests sent to the lost pool after it went (one at least per nginx worker, before nginx
        # marks it down) were passed to the other pool.
        assert passed_on(access_log, "/ping") or passed_on(access_log, "/user/data")
        # A POST that could not even connect never reached a pool: nginx passes it on too. (One whose connection
        # was lost after it was sent is not retried, and is not tested here: when it happens is up to chance.)
        writer = Api(rig.https_port, token=token)
        for n in range(20):
            body = {"userId": "failover-user", "refreshToken": "r" * 40, "releaseRadarEnrolled": n % 2 == 0}
            assert writer.post("/user/update", body).status == 200

        rig.start_extra_pool(0)
        restarted = PoolStatus(rig.extra_sockets[0])
        # Taken back: nginx sends it requests again once its fail_timeout is over. (60 s is a liveness bound:
        # the first requests reach it about a second after it listens.)
        wait_until(lambda: restarted.from_nginx() >= 50, 60, interval=0.1, what="requests reaching the restarted pool")
        ping.wait_for(len(ping.results) + 300)
        data.wait_for(len(data.results) + 100)

    assert ping.failures == [], ping.failures[:10]
    assert data.failures == [], data.failures[:10]
    assert len(ping.results) + len(data.results) > done


def test_the_production_site_passes_to_one_upstream_and_retries_only_what_is_idempotent():
    """nginx/xomify.conf lists its pools in one upstream (by default this host's unix socket alone, further hosts
    commented), every location passes to it, and a request is passed to the next pool only on an error or a
    timeout, never a POST once sent (no `non_idempotent`) and never on a pool's own 503."""
    site = open(os.path.join(NGINX_DIR, "xomify.conf")).read()
    live = "\n".join(line.split("#", 1)[0] for line in site.splitlines())
    upstream = re.search(r"upstream xomify_pools \{([^}]*)\}", live)
    assert upstream and re.findall(r"server\s+(\S+?)[\s;]", upstream.group(1)) == ["unix:/run/xomify/api.sock"]
    assert re.search(r"#\s*server 10\.0\.0\.\d+:\d+ max_fails=\d+ fail_timeout=\d+s;", site)
    passes = re.findall(r"fastcgi_pass\s+([^;]+);", live)
    assert passes and set(passes) == {"xomify_pools"}
    fastcgi = open(os.path.join(NGINX_DIR, "xomify-fastcgi.conf")).read()
    directives = re.findall(r"(?m)^\s*fastcgi_next_upstream\s+([^;]+);", fastcgi)
    assert directives == ["error timeout"]
    template = open(os.path.join(NGINX_DIR, "xomify-test.conf.template")).read()
    assert set(re.findall(r"fastcgi_pass\s+([^;]+);", template)) == {"xomify_pools"}
