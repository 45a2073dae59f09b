import pytest
from helpers_web import dashboard


@pytest.fixture
def server(made):
    """optuna-dashboard serving the shared study ``made``: (base URL, process)."""
    with dashboard(made.name, made.studies) as served:
        yield served
