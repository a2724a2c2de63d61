"""
Load test users for `make loadtest` (bench/loadtest.py starts gunicorn and locust).

Coordinators of several boroughs work their caseload: home page, client lists (with
filters and pages), client pages, their borough's dashboard, and logging sessions.
Managers read the network and borough dashboards. Every session a coordinator posts
carries a fresh submission token; the tokens of acknowledged posts (302 to the client
page) are written to $LOADTEST_TOKENS so the driver can check each one is stored once.

Statistics start when the last user has signed in (and a coordinator has read their first
list): sign-in hashes each password on purpose slowly, and 50 users signing in at once on
2 cores is not the signed-in work this test measures. How long that took is written to
$LOADTEST_SIGNED_IN.

$LOADTEST_USERS is a JSON list of {"username", "password", "role", "borough"}.
"""

import json
import os
import random
import re
import threading
import time
import uuid
from datetime import date

from locust import HttpUser, between, events, task

USERS = json.loads(os.environ.get("LOADTEST_USERS", "[]"))
TOKENS_FILE = os.environ.get("LOADTEST_TOKENS", "/tmp/sos-loadtest-tokens.txt")
SIGNED_IN_FILE = os.environ.get("LOADTEST_SIGNED_IN", "/tmp/sos-loadtest-signed-in.txt")
REFERENCE = re.compile(r'href="/clients/([A-Z]{2,4}-\d{5})/"')
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_lock = threading.Lock()
_next = 0
_ready = 0
_started = time.monotonic()
acknowledged = []


def next_user(role):
    global _next
    with _lock:
        pool = [u for u in USERS if u["role"] == role]
        user = pool[_next % len(pool)]
        _next += 1
        return user


@events.test_start.add_listener
def started(environment, **kwargs):
    global _started
    _started = time.monotonic()


def ready(environment):
    """One more user signed in; when it is the last, the statistics start afresh."""
    global _ready
    with _lock:
        _ready += 1
        everyone = _ready == environment.runner.target_user_count
    if everyone:
        environment.stats.reset_all()
        with open(SIGNED_IN_FILE, "w") as out:
            out.write(f"{time.monotonic() - _started:.1f}")


@events.quitting.add_listener
def write_tokens(environment, **kwargs):
    with open(TOKENS_FILE, "w") as out:
        out.write("\n".join(acknowledged))


class Staff(HttpUser):
    abstract = True
    wait_time = between(0.5, 2)
    role = ""

    def on_start(self):
        self.account = next_user(self.role)
        page = self.client.get("/accounts/login/", name="/accounts/login/")
        token = CSRF_INPUT.search(page.text).group(1)
        response = self.client.post(
            "/accounts/login/",
            {
                "username": self.account["username"],
                "password": self.account["password"],
                "csrfmiddlewaretoken": token,
                "next": "/",
            },
            name="/accounts/login/ POST",
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise RuntimeError(f"sign-in failed for {self.account['username']}")
        self.after_sign_in()
        ready(self.environment)

    def after_sign_in(self):
        pass


class Coordinator(Staff):
    weight = 4
    role = "coordinator"

    def after_sign_in(self):
        self.references = []
        self.load_clients()

    def load_clients(self, page=1):
        response = self.client.get(
            f"/clients/?status=ACTIVE&page={page}", name="/clients/?status=ACTIVE&page=N"
        )
        self.references = REFERENCE.findall(response.text) or self.references

    @task(3)
    def home(self):
        self.client.get("/", name="/ (home)")

    @task(3)
    def client_list(self):
        self.load_clients(page=random.randint(1, 8))

    @task(1)
    def search(self):
        self.client.get(f"/clients/?q={random.choice('abcdefghjklmnprst')}", name="/clients/?q=")

    @task(5)
    def client_page(self):
        if self.references:
            ref = random.choice(self.references)
            self.client.get(f"/clients/{ref}/", name="/clients/<ref>/")

    @task(2)
    def dashboard(self):
        self.client.get(f"/dashboard/{self.account['borough']}/", name="/dashboard/<borough>/")

    @task(3)
    def log_session(self):
        if not self.references:
            return
        ref = random.choice(self.references)
        form = self.client.get(f"/clients/{ref}/sessions/new/", name="/clients/<ref>/sessions/new/")
        match = CSRF_INPUT.search(form.text)
        if match is None:
            return
        token = str(uuid.uuid4())
        with self.client.post(
            f"/clients/{ref}/sessions/new/",
            {
                "csrfmiddlewaretoken": match.group(1),
                "date": date.today().strftime("%d/%m/%Y"),
                "duration_minutes": "45",
                "kind": "BOTH",
                "mode": "PHONE",
                "attendance": "ATTENDED",
                "notes": "Load test session",
                "submission_token": token,
            },
            name="/clients/<ref>/sessions/new/ POST",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                acknowledged.append(token)
                response.success()
            else:
                response.failure(f"session not saved: {response.status_code}")


class Manager(Staff):
    weight = 1
    role = "manager"

    @task(2)
    def network(self):
        self.client.get("/dashboard/", name="/dashboard/")

    @task(3)
    def borough(self):
        slug = random.choice([u["borough"] for u in USERS if u["role"] == "coordinator"])
        self.client.get(f"/dashboard/{slug}/", name="/dashboard/<borough>/")
