import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "rig"))
sys.path.insert(0, HERE)

from api_client import Api  # noqa: E402
from xomify_rig import Rig  # noqa: E402


@pytest.fixture(scope="session")
def rig():
    """The shared system: tests that stop or break things make their own with `make_rig`."""
    with Rig(settings={"XOMIFY_ADMIN_EMAILS": "admin@xomify.test"}) as shared:
        yield shared
        assert shared.sandbox.total_gone_calls() == 0, "an endpoint Spotify removed was called"


@pytest.fixture
def make_rig():
    """A private system for one test, closed afterwards whatever happens."""
    made = []

    def make(**kwargs):
        instance = Rig(**kwargs)
        made.append(instance)
        return instance.start()

    yield make
    for instance in made:
        instance.close()
    for instance in made:
        if instance.sandbox:
            assert instance.sandbox.gone_calls == 0, "an endpoint Spotify removed was called"


@pytest.fixture
def api(rig):
    return Api(rig.https_port)
