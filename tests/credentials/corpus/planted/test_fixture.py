import pytest

# a real pair pasted into a test "just for now"
SANDBOX_KEY = "%%bluum_key%%"
SANDBOX_SECRET = "%%bluum_secret%%"
PRIVATE_KEY = """%%private_key%%"""
JWT = "%%jwt%%"


@pytest.fixture
def pair() -> tuple[str, str]:
    return SANDBOX_KEY, SANDBOX_SECRET
