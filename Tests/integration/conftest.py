import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "rig"))
sys.path.insert(0, HERE)

import api_client  # noqa: E402
from api_client import Api  # noqa: E402
from api_helpers import assert_serves_this_rig  # noqa: E402
from secret_scan import SCAN  # noqa: E402
from xomify_rig import Rig  # noqa: E402
# The reliability probes' table at the end of the run, and its report file (scripts/reliability).
from reliability import pytest_sessionfinish, pytest_terminal_summary, scan_secrets  # noqa: E402,F401

# Every exchange of every test is recorded, so that no response body of the whole run may carry a secret.
api_client.observers.append(SCAN.observe)


def check_no_secrets(rig):
    """Fails when a response body seen so far, or this rig's logs, contain a secret (SPEC §3)."""
    SCAN.add_rig(rig)
    body_leaks = SCAN.leaks_in_bodies()
    log_leaks = SCAN.leaks_in_logs(rig.logs())
    assert not body_leaks, f"secrets in response bodies: {body_leaks}"
    assert not log_leaks, f"secrets in the logs of {rig.directory}: {log_leaks}"


@pytest.fixture(scope="session")
def rig():
    """The shared system: tests that stop or break things make their own with `make_rig`."""
    with Rig(settings={"XOMIFY_ADMIN_EMAILS": "admin@xomify.test"}) as shared:
        assert_serves_this_rig(shared)
        SCAN.add_rig(shared)
        yield shared
        check_no_secrets(shared)
        assert shared.sandbox.total_gone_calls() == 0, "an endpoint Spotify removed was called"


@pytest.fixture(scope="session")
def reliability_rig():
    """The system the reliability probes (test_reliability_*.py) break things on, apart from the shared one: a
    worker they cost (libfcgi's known abort) or a thread they hold must not disturb other tests. Its logs and
    every answer of the run are scanned for secrets at the end, as a probe of the table."""
    with Rig() as system:
        assert_serves_this_rig(system)
        SCAN.add_rig(system)
        yield system
        leaks = scan_secrets(system, "the reliability rig")
        assert not leaks, f"secrets in the logs or answers of {system.directory}: {leaks}"


@pytest.fixture
def make_rig():
    """A private system for one test, closed afterwards whatever happens (its logs scanned for secrets first)."""
    made = []

    def make(**kwargs):
        instance = Rig(**kwargs)
        made.append(instance)
        instance.start()
        SCAN.add_rig(instance)
        if instance.nginx:
            assert_serves_this_rig(instance)
        return instance

    yield make
    try:
        for instance in made:
            if instance.started:
                check_no_secrets(instance)
    finally:
        for instance in made:
            instance.close()
    for instance in made:
        if instance.sandbox:
            assert instance.sandbox.gone_calls == 0, "an endpoint Spotify removed was called"


@pytest.fixture
def api(rig):
    return Api(rig.https_port)
