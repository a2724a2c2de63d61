import pytest
from playwright.sync_api import sync_playwright

from .. import factories
from .support import CHROMIUM, LAUNCH_ARGS


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module; each test gets a fresh context (cookies, storage)."""
    # Playwright's sync API keeps an event loop running in this thread, and Django refuses
    # ORM calls from a thread with a running loop unless told the code is really sync.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture(scope="module", autouse=True)
def _support_areas_restored(django_db_setup, django_db_blocker):
    """Leave the database as the migrations did for the tests that run after these."""
    yield
    with django_db_blocker.unblock():
        factories.seed_support_areas()
