"""
Property-based tests: every form a person can send, fuzzed through its real view.

Each form gets at least 200 generated submissions, sent with Django's test client by
someone allowed to use it (the coordinator of the client's borough; nobody for the
sign-in and password-reset pages). The data mixes plausible values with missing fields,
10,000+ character strings, NUL and other control characters, unicode, HTML and script
payloads, dates far in the past and future, impossible dates and garbage, sent as
multipart, as URL-encoded UTF-8 and as URL-encoded Latin-1.

For every example:

* the answer is never a 5xx (an exception in a view fails the test, with the input);
* a request that did not succeed changed no row of any ``mentoring`` table (every row of
  every table, many-to-many and history tables included, compared before and after), so
  there are no partial writes;
* no HTML payload comes back unescaped, neither in a form shown again with its errors
  nor on the pages that show what was saved (client page, subject access export, change
  history, home page, client list; the borough dashboard when a date far in the past or
  future was saved), and a payload that was saved is shown escaped.

Each example runs in a savepoint that is rolled back at its end, so examples never see
each other's writes; a tally proves how many examples each form really received.

The admin's own forms (ClientAdminForm, AssignmentAdminForm) are fuzzed at the end: the
assignment form through the admin view, the client form (whose admin page is too slow to
render 200 times here) directly, plus one run through its admin view.
"""

import re
import string
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from http.cookies import SimpleCookie
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth.tokens import default_token_generator
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test import Client as Browser
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_encode
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mentoring.forms import ClientAdminForm
from mentoring.models import (
    AccessLog,
    Assignment,
    Client,
    Goal,
    Milestone,
    Offence,
    PathwayStep,
    Placement,
    StaffProfile,
    SupportArea,
    SupportSession,
)
from mentoring.services import client_save

from .. import factories
from ..helpers import dmy, snapshot

pytestmark = pytest.mark.django_db

EXAMPLES = 200
ON_POSTGRES = connection.vendor == "postgresql"
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the repository
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Payloads ------------------------------------------------------------------------------

# Each holds characters HTML gives meaning to; none may ever reach a page unescaped.
HTML_PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    "</textarea><script>alert(2)</script>",
    "<b onmouseover=alert(3)>x</b>",
    "&lt;script&gt;alert(4)&lt;/script&gt;",
)
OTHER_NASTY = (
    "{{ 7|add:7 }}",
    "{% now 'Y' %}",
    "javascript:alert(1)",
    "%s%s%s%n",
    "' OR 1=1 --",
    "Robert'); DROP TABLE mentoring_client;--",
    "../../../etc/passwd",
    "\u202egnp.exe",
    "\ufeffBOM",
    "Zoë Ñúñez-O'Brien",
    "\U0001d54f\U0001d56a\U0001d56b \U0001f600 \u0301\u0301",  # math letters, emoji, lone accents
    "null",
    "None",
    "-",
    " ",
    "\t\n\r",
)
LONG = 10_000
CONTROL = st.characters(min_codepoint=0, max_codepoint=31) | st.sampled_from(
    "\x7f\x85\u2028\u2029\ufffe\uffff"
)
WORD = st.text(alphabet=string.ascii_letters, min_size=1, max_size=12)
PAYLOAD = st.sampled_from(HTML_PAYLOADS)


def _long(seed):
    """``seed`` repeated to more than 10,000 characters."""
    return seed * (LONG // len(seed) + 1)


# Anything a field might be sent that is not a plausible value.
NASTY_TEXT = st.one_of(
    st.just(""),
    PAYLOAD,
    st.sampled_from(OTHER_NASTY),
    st.text(max_size=40),  # any unicode (no lone surrogates: no browser can send them)
    st.text(alphabet=CONTROL, min_size=1, max_size=6),
    st.builds(lambda a, b: f"{a}\x00{b}", WORD, WORD),
    st.builds(_long, st.one_of(PAYLOAD, WORD, st.text(min_size=1, max_size=5))),
    st.binary(min_size=1, max_size=20).map(lambda b: b.decode("latin-1")),
)


def text_within(max_length):
    """Text a form should accept, often carrying an HTML payload."""
    candidates = st.one_of(
        st.builds(lambda a, b: f"{a} {b}", WORD, WORD),
        PAYLOAD,
        st.builds(lambda a, p, b: f"{a}{p}{b}", WORD, PAYLOAD, WORD),
        st.text(alphabet=st.characters(categories=["L", "M", "N", "P", "S"]), min_size=1),
    )
    return candidates.filter(lambda s: 0 < len(s.strip()) <= max_length)


TEXT_30 = text_within(30)
TEXT_100 = text_within(100)
TEXT_300 = text_within(300)
OPTIONAL_TEXT_100 = st.one_of(st.just(""), TEXT_100)
LONG_TEXT = st.one_of(st.just(""), text_within(2000), st.builds(_long, PAYLOAD))
NOTES = st.one_of(st.just(""), text_within(2000))
MISSING = object()
TICKED = st.sampled_from([MISSING, "on"])


def iso(day):
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


DATE_FORMATS = st.sampled_from([dmy, iso])
BAD_DATES = (
    "0001-01-01",
    "01/01/0001",
    "9999-12-31",
    "31/12/9999",
    "31/02/2020",
    "29/02/2021",
    "30/02/2024",
    "00/00/0000",
    "32/01/2020",
    "2020-13-01",
    "1/1/1",
    "99999-01-01",
    "01/01/99999",
    "today",
    "2020-01-01T00:00:00",
    "2020/01/01",
    " 01/01/2020 ",
    "01-01-2020",
    "\uff11\uff12/\uff10\uff11/\uff12\uff10\uff12\uff10",  # full-width digits
    "-1",
    "0",
)
NASTY_DATE = st.one_of(
    st.sampled_from(BAD_DATES),
    st.builds(lambda fmt, day: fmt(day), DATE_FORMATS, st.dates()),  # years 1 to 9999
    NASTY_TEXT,
)
NASTY_NUMBER = st.one_of(
    st.sampled_from(
        [
            "0",
            "4",
            "721",
            "-5",
            "1e3",
            "5.0",
            "60.5",
            "99999999999999999999999",
            "-9223372036854775809",
            "٣٠",
            "NaN",
            "inf",
            "0x10",
            " 60 ",
        ]
    ),
    st.integers().map(str),
    NASTY_TEXT,
)
NASTY_BOOL = st.one_of(st.sampled_from(["off", "false", "0", "", "true", "1", "yes"]), NASTY_TEXT)
NASTY_TIME = st.one_of(
    st.sampled_from(["25:00", "12:60", "24:00", "-1:00", "noon", "12:00:00.5", "9"]),
    NASTY_TEXT,
)


def dates_between(low, high):
    return st.builds(lambda f, d: f(d), DATE_FORMATS, st.dates(min_value=low, max_value=high))


UNIT_MAX = 2**16
UNIT = st.integers(0, UNIT_MAX)


def day_between(draw, low, high):
    """A day from ``low`` to ``high`` (both drawn earlier): no new strategy per example."""
    return low + timedelta(days=(high - low).days * draw(UNIT) // UNIT_MAX)


def nasty_choice(values):
    return st.one_of(
        st.sampled_from([v.lower() for v in values] + [v.title() for v in values]),
        NASTY_TEXT,
    )


def nasty_pk(*known):
    """Primary keys that are not a choice of the field: absent, out of range, not numbers."""
    return st.one_of(
        st.sampled_from(
            ["0", "-1", "99999999", "9223372036854775808", "1.0", "1 OR 1=1"]
            + [str(pk) for pk in known]
        ),
        st.integers().map(str),
        NASTY_TEXT,
    )


def nasty_many(*known):
    """Lists of primary keys for a multiple choice, or one."""
    return st.one_of(st.lists(nasty_pk(*known), min_size=1, max_size=4), nasty_pk(*known))


EXTRA_FIELDS = st.dictionaries(st.text(min_size=1, max_size=10), NASTY_TEXT, max_size=3)
ONE_IN_TEN = st.integers(0, 9)


def mutated(valid, nasty):
    """
    A valid submission, then some of the fields of ``nasty`` removed or replaced by its
    values. About a quarter of the examples stay valid, so that the success path and the
    pages that show what was saved are fuzzed too.
    """
    names = sorted(nasty)
    choose = st.one_of(
        st.just([]),
        st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True),
        st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True),
        st.lists(st.sampled_from(names), min_size=1, unique=True),
    )
    replacement = {name: st.one_of(st.just(MISSING), nasty.get(name, NASTY_TEXT)) for name in names}

    @st.composite
    def submissions(draw):
        data = dict(draw(valid))
        for name in draw(choose):
            data[name] = draw(replacement[name])
        if draw(ONE_IN_TEN) == 0:  # unexpected extra fields, now and then
            for key, value in draw(EXTRA_FIELDS).items():
                data.setdefault(key, value)
        return {k: v for k, v in data.items() if v is not MISSING}

    return submissions()


def at(url, strategy):
    """Submissions of ``strategy`` sent to ``url``."""
    return strategy.map(lambda data: (url, data))


class Live:
    """A value known only when the request is sent: the current code of a TOTP device."""

    def __init__(self, device):
        self.device = device

    def __repr__(self):
        return "<current TOTP code>"

    def code(self):
        d = self.device
        return f"{TOTP(d.bin_key, d.step, d.t0, d.digits, d.drift).token():0{d.digits}d}"


# The world every example starts from ---------------------------------------------------


@pytest.fixture
def world(borough_a, borough_b, coordinator_a, admin_user):
    """
    Borough A (the coordinator's): a referral, an active client whose mentor is full, an
    active client with no mentor, a spare mentor, a recent session and a goal. Borough B:
    a client and a mentor the coordinator must not reach. Two-factor: the coordinator has
    an unconfirmed authenticator (set-up), a second coordinator a confirmed one.
    """
    today = timezone.localdate()
    referred_on = today - timedelta(days=400)
    born = date(referred_on.year - 19, 3, 1)
    full_mentor = factories.MentorFactory(
        home_borough=borough_a, first_name="Fay", last_name="Full", max_caseload=1
    )
    spare_mentor = factories.MentorFactory(
        home_borough=borough_a, first_name="Sam", last_name="Spare", max_caseload=8
    )
    other_mentor = factories.MentorFactory(home_borough=borough_b)
    referred = factories.ClientFactory(
        borough=borough_a, referred_on=referred_on, date_of_birth=born
    )
    active = factories.ClientFactory(
        borough=borough_a,
        active=True,
        referred_on=referred_on,
        date_of_birth=born,
        started_on=referred_on + timedelta(days=20),
    )
    factories.AssignmentFactory(client=active, mentor=full_mentor, started_on=active.started_on)
    unassigned = factories.ClientFactory(
        borough=borough_a,
        active=True,
        referred_on=referred_on,
        date_of_birth=born,
        started_on=referred_on + timedelta(days=10),
    )
    other_client = factories.ClientFactory(borough=borough_b, active=True)
    session = factories.SupportSessionFactory(
        client=active, mentor=full_mentor, date=today - timedelta(days=3), logged_by=coordinator_a
    )
    goal = factories.GoalFactory(client=active, set_on=active.referred_on)
    employer = factories.EmployerFactory(borough=borough_a)
    enrolled = factories.StaffProfileFactory(
        user__username="coord_2fa", boroughs=[borough_a], role=StaffProfile.Role.COORDINATOR
    ).user
    app = TOTPDevice.objects.create(user=enrolled, name="Authenticator app", confirmed=True)
    recovery = StaticDevice.objects.create(user=enrolled, name="Recovery codes")
    StaticToken.objects.create(device=recovery, token="abcd2345")
    # Closed as completed 200 days ago: its 3-month check-in recorded, the 6-month one due.
    completed = factories.ClientFactory(
        borough=borough_a,
        closed=True,
        referred_on=today - timedelta(days=500),
        ended_on=today - timedelta(days=200),
    )
    return SimpleNamespace(
        today=today,
        borough=borough_a,
        other_borough=borough_b,
        coordinator=coordinator_a,
        enrolled=enrolled,
        enrolled_app=app,
        setup_app=TOTPDevice.objects.create(
            user=coordinator_a, name="Authenticator app", confirmed=False
        ),
        admin=admin_user,
        full_mentor=full_mentor,
        spare_mentor=spare_mentor,
        other_mentor=other_mentor,
        referred=referred,
        active=active,
        unassigned=unassigned,
        other_client=other_client,
        session=session,
        goal=goal,
        offence=factories.OffenceFactory(
            client=active,
            offence_date=active.started_on,
            disposal=Offence.Disposal.PENDING,
            outcome_date=None,
        ),
        milestone=factories.MilestoneFactory(client=active, verified=False),
        employer=employer,
        # Serves borough B only: not a choice for borough A's client.
        other_employer=factories.EmployerFactory(borough=borough_b),
        placement=factories.PlacementFactory(
            client=active, employer=employer, started_on=active.started_on
        ),
        pathway_step=factories.PathwayStepFactory(
            client=active, step=PathwayStep.Step.LEVEL_2, reached_on=active.started_on
        ),
        areas=list(SupportArea.objects.values_list("pk", flat=True)),
        completed=completed,
        check_in=factories.FollowUpFactory(client=completed, reached=True),
    )


# What each form is sent ----------------------------------------------------------------


def _values(choices):
    return list(choices.values)


def _ref_url(name, client):
    return reverse(name, args=[client.reference])


def _client_nasty(w):
    return {
        "first_name": NASTY_TEXT,
        "last_name": NASTY_TEXT,
        "preferred_name": NASTY_TEXT,
        "date_of_birth": NASTY_DATE,
        "gender": nasty_choice(_values(Client.Gender)),
        "ethnicity": nasty_choice(_values(Client.Ethnicity)),
        "borough": nasty_pk(w.other_borough.pk),
        "referral_source": nasty_choice(_values(Client.ReferralSource)),
        "referred_on": NASTY_DATE,
        "risk_level": nasty_choice(_values(Client.RiskLevel)),
        "gang_affiliated": NASTY_BOOL,
        "needs": nasty_many(),
        "consent_recorded_on": NASTY_DATE,
        "phone": NASTY_TEXT,
        "email": st.one_of(NASTY_TEXT, st.builds(lambda p: f"{p}@example.org", PAYLOAD)),
        "address": NASTY_TEXT,
        "confirm_outside_target_age": NASTY_BOOL,
    }


def client_fields(w, *, latest_referral, **extra):
    """Referrals inside the target age (16 to 25), in the coordinator's borough."""
    plain = st.fixed_dictionaries(
        {
            "first_name": TEXT_100,
            "last_name": TEXT_100,
            "preferred_name": OPTIONAL_TEXT_100,
            "gender": st.sampled_from(_values(Client.Gender)),
            "ethnicity": st.sampled_from(["", *_values(Client.Ethnicity)]),
            "borough": st.just(str(w.borough.pk)),
            "referral_source": st.sampled_from(_values(Client.ReferralSource)),
            "risk_level": st.sampled_from(_values(Client.RiskLevel)),
            "gang_affiliated": TICKED,
            "needs": st.lists(st.sampled_from(w.areas).map(str), unique=True, max_size=3),
            "phone": st.one_of(st.just(""), st.just("07700 900123"), TEXT_30),
            "email": st.sampled_from(["", "kai.brown@example.org", "o'neil+sos@example.co.uk"]),
            "address": LONG_TEXT,
            "confirm_outside_target_age": TICKED,
            **{name: st.just(value) for name, value in extra.items()},
        }
    )
    referral = st.dates(min_value=date(2000, 3, 1), max_value=latest_referral)
    ages = st.integers(min_value=16, max_value=25)
    consented = st.booleans()

    @st.composite
    def fields(draw):
        data = draw(plain)
        referred_on, age, fmt = draw(referral), draw(ages), draw(DATE_FORMATS)
        data["referred_on"] = fmt(referred_on)
        data["date_of_birth"] = fmt(date(referred_on.year - age - 1, referred_on.month, 1))
        consent = day_between(draw, referred_on, w.today) if draw(consented) else None
        data["consent_recorded_on"] = fmt(consent) if consent else ""
        return data

    return fields()


def client_new_data(w):
    url = reverse("client_new")
    return at(url, mutated(client_fields(w, latest_referral=w.today), _client_nasty(w)))


def client_edit_data(w):
    """Edits of the referral (borough can change) and of the active client (it cannot)."""

    def edit(client):
        valid = client_fields(
            w, latest_referral=client.started_on or w.today, version=str(client.version)
        )
        nasty = {**_client_nasty(w), "version": nasty_pk(0, client.version + 1)}
        return at(_ref_url("client_edit", client), mutated(valid, nasty))

    return st.one_of(edit(w.referred), edit(w.active))


def start_data(w):
    client = w.referred
    starts = st.dates(min_value=client.referred_on, max_value=w.today)
    released = st.booleans()

    @st.composite
    def valid(draw):
        started, fmt = draw(starts), draw(DATE_FORMATS)
        release = ""
        if draw(released):
            release = fmt(day_between(draw, started, w.today + timedelta(days=900)))
        return {"started_on": fmt(started), "release_date": release}

    nasty = {"started_on": NASTY_DATE, "release_date": NASTY_DATE}
    return at(_ref_url("client_start", client), mutated(valid(), nasty))


def decline_data(w):
    # The button sends nothing; whatever arrives must be ignored.
    nasty = {"status": NASTY_TEXT, "started_on": NASTY_DATE, "reason": NASTY_TEXT}
    return at(_ref_url("client_decline", w.referred), mutated(st.just({}), nasty))


def assign_data(w):
    """A first mentor for the client without one; a new mentor for the other."""
    end_reasons = [v for v in _values(Assignment.EndReason) if v != "CASE_CLOSED"]

    def assign(client, mentors):
        valid = st.fixed_dictionaries(
            {
                "mentor": st.sampled_from([str(pk) for pk in mentors]),
                "started_on": dates_between(client.started_on, w.today),
                "end_reason": st.sampled_from(["", *end_reasons]),
                "confirm_over_capacity": TICKED,
            }
        )
        nasty = {
            "mentor": nasty_pk(w.other_mentor.pk, w.full_mentor.pk),
            "started_on": NASTY_DATE,
            "end_reason": nasty_choice([*end_reasons, "CASE_CLOSED"]),
            "confirm_over_capacity": NASTY_BOOL,
        }
        return at(_ref_url("client_assign", client), mutated(valid, nasty))

    return st.one_of(
        assign(w.unassigned, [w.spare_mentor.pk, w.full_mentor.pk]),
        assign(w.active, [w.spare_mentor.pk]),
    )


def close_data(w):
    valid = st.fixed_dictionaries(
        {
            "ended_on": dates_between(w.active.started_on, w.today),
            "closure_reason": st.sampled_from(_values(Client.ClosureReason)),
        }
    )
    nasty = {"ended_on": NASTY_DATE, "closure_reason": nasty_choice(_values(Client.ClosureReason))}
    return at(_ref_url("client_close", w.active), mutated(valid, nasty))


def transfer_data(w):
    valid = st.fixed_dictionaries(
        {
            "borough": st.just(str(w.other_borough.pk)),
            "transferred_on": dates_between(w.active.started_on, w.today),
            "note": WORD,
        }
    )
    # The client's own borough is no choice: a transfer goes to another area.
    nasty = {"borough": nasty_pk(w.borough.pk), "transferred_on": NASTY_DATE, "note": NASTY_TEXT}
    return at(_ref_url("client_transfer", w.active), mutated(valid, nasty))


def _session_nasty(w):
    return {
        "client": nasty_pk(w.other_client.pk, w.referred.pk),
        "mentor": nasty_pk(w.other_mentor.pk),
        "date": NASTY_DATE,
        "start_time": NASTY_TIME,
        "duration_minutes": NASTY_NUMBER,
        "kind": nasty_choice(_values(SupportSession.Kind)),
        "mode": nasty_choice(_values(SupportSession.Mode)),
        "attendance": nasty_choice(_values(SupportSession.Attendance)),
        "support_areas": nasty_many(),
        "notes": NASTY_TEXT,
        "safeguarding_concern": NASTY_BOOL,
        # The existing session's token: "already saved", nothing written twice.
        "submission_token": st.one_of(
            st.just(str(w.session.submission_token)), st.uuids().map(str), NASTY_TEXT
        ),
        "version": nasty_pk(0, 2),
    }


def session_fields(w, for_client, **extra):
    return st.fixed_dictionaries(
        {
            "mentor": st.sampled_from(["", str(w.spare_mentor.pk), str(w.full_mentor.pk)]),
            "date": dates_between(for_client.referred_on, w.today),
            "start_time": st.one_of(
                st.just(""), st.times().map(lambda t: f"{t.hour:02d}:{t.minute:02d}")
            ),
            "duration_minutes": st.integers(min_value=5, max_value=720).map(str),
            "kind": st.sampled_from(_values(SupportSession.Kind)),
            "mode": st.sampled_from(_values(SupportSession.Mode)),
            "attendance": st.sampled_from(_values(SupportSession.Attendance)),
            "support_areas": st.lists(st.sampled_from(w.areas).map(str), unique=True, max_size=3),
            "notes": LONG_TEXT,
            "safeguarding_concern": TICKED,
            **extra,
        }
    )


def session_new_data(w):
    """Logged from a client's page (client fixed) and from /sessions/new/ (client chosen)."""
    token = st.uuids().map(str)
    nasty = _session_nasty(w)
    del nasty["version"]
    fixed_nasty = {k: v for k, v in nasty.items() if k != "client"}
    from_page = session_fields(w, w.active, submission_token=token)
    chosen = st.one_of(
        *[
            session_fields(w, client, client=st.just(str(client.pk)), submission_token=token)
            for client in (w.active, w.unassigned)
        ]
    )
    return st.one_of(
        at(_ref_url("client_session_new", w.active), mutated(from_page, fixed_nasty)),
        at(reverse("session_new"), mutated(chosen, nasty)),
    )


def session_edit_data(w):
    valid = session_fields(w, w.active, version=st.just(str(w.session.version)))
    nasty = _session_nasty(w)
    del nasty["client"], nasty["submission_token"]
    return at(reverse("session_edit", args=[w.session.pk]), mutated(valid, nasty))


def _offence_fields(w):
    plain = st.fixed_dictionaries(
        {
            "offence_type": st.sampled_from(_values(Offence.OffenceType)),
            "disposal": st.sampled_from(_values(Offence.Disposal)),
            "source": st.sampled_from(_values(Offence.Source)),
            "notes": NOTES,
        }
    )
    # From the client's 10th birthday: no one younger can be convicted or cautioned.
    born = w.active.date_of_birth
    offence_dates = st.dates(min_value=born.replace(year=born.year + 10), max_value=w.today)

    @st.composite
    def valid(draw):
        data = draw(plain)
        offence_date, fmt = draw(offence_dates), draw(DATE_FORMATS)
        data["offence_date"] = fmt(offence_date)
        data["outcome_date"] = ""
        if data["disposal"] != Offence.Disposal.PENDING:
            data["outcome_date"] = fmt(day_between(draw, offence_date, w.today))
        return data

    nasty = {
        "offence_date": NASTY_DATE,
        "offence_type": nasty_choice(_values(Offence.OffenceType)),
        "disposal": nasty_choice(_values(Offence.Disposal)),
        "outcome_date": NASTY_DATE,
        "source": nasty_choice(_values(Offence.Source)),
        "notes": NASTY_TEXT,
    }
    return valid(), nasty


def offence_data(w):
    return at(_ref_url("offence_new", w.active), mutated(*_offence_fields(w)))


def _edited(fields, record):
    """A record's form as posted to correct it: its fields and its version."""
    valid, nasty = fields
    valid = st.tuples(valid, st.just(str(record.version))).map(
        lambda pair: {**pair[0], "version": pair[1]}
    )
    return mutated(valid, {**nasty, "version": nasty_pk(record.version - 1, record.version)})


def offence_edit_data(w):
    return at(reverse("offence_edit", args=[w.offence.pk]), _edited(_offence_fields(w), w.offence))


def _milestone_fields(w):
    valid = st.fixed_dictionaries(
        {
            "kind": st.sampled_from(_values(Milestone.Kind)),
            "achieved_on": dates_between(w.active.referred_on, w.today),
            "evidence": NOTES,
            "verified": TICKED,
        }
    )
    nasty = {
        "kind": nasty_choice(_values(Milestone.Kind)),
        "achieved_on": NASTY_DATE,
        "evidence": NASTY_TEXT,
        "verified": NASTY_BOOL,
    }
    return valid, nasty


def milestone_data(w):
    return at(_ref_url("milestone_new", w.active), mutated(*_milestone_fields(w)))


def milestone_edit_data(w):
    url = reverse("milestone_edit", args=[w.milestone.pk])
    return at(url, _edited(_milestone_fields(w), w.milestone))


YES_OR_NO = st.sampled_from(["True", "False"])


def _check_in_fields(w):
    valid = st.fixed_dictionaries(
        {
            "done_on": dates_between(w.completed.ended_on + timedelta(days=1), w.today),
            "reached": YES_OR_NO,
            "in_ete": YES_OR_NO,
            "stable_accommodation": YES_OR_NO,
            "new_offence_told": YES_OR_NO,
            "note": NOTES,
        }
    )
    nasty = {
        "done_on": NASTY_DATE,
        "reached": NASTY_BOOL,
        "in_ete": NASTY_BOOL,
        "stable_accommodation": NASTY_BOOL,
        "new_offence_told": NASTY_BOOL,
        "note": NASTY_TEXT,
    }
    return valid, nasty


def check_in_data(w):
    url = reverse("followup_record", args=[w.completed.reference, 6])
    return at(url, mutated(*_check_in_fields(w)))


def check_in_edit_data(w):
    url = reverse("followup_edit", args=[w.check_in.pk])
    return at(url, _edited(_check_in_fields(w), w.check_in))


def _pathway_fields(w):
    valid = st.fixed_dictionaries(
        {
            "step": st.sampled_from(_values(PathwayStep.Step)),
            "reached_on": dates_between(w.active.referred_on, w.today),
            "note": NOTES,
        }
    )
    nasty = {
        "step": nasty_choice(_values(PathwayStep.Step)),
        "reached_on": NASTY_DATE,
        "note": NASTY_TEXT,
    }
    return valid, nasty


def pathway_step_data(w):
    return at(_ref_url("pathway_step_new", w.active), mutated(*_pathway_fields(w)))


def pathway_step_edit_data(w):
    url = reverse("pathway_step_edit", args=[w.pathway_step.pk])
    return at(url, _edited(_pathway_fields(w), w.pathway_step))


def becomes_mentor_data(w):
    """The active client becomes a mentor: their open case asks for the tick."""
    valid = st.fixed_dictionaries(
        {"started_on": dates_between(w.active.started_on, w.today), "confirm": st.just("on")}
    )
    nasty = {"started_on": NASTY_DATE, "confirm": NASTY_BOOL}
    return at(_ref_url("client_becomes_mentor", w.active), mutated(valid, nasty))


def _placement_fields(w):
    plain = st.fixed_dictionaries(
        {
            "employer": st.just(str(w.employer.pk)),
            "kind": st.sampled_from(_values(Placement.Kind)),
            "notes": NOTES,
        }
    )
    starts = st.dates(min_value=w.active.referred_on, max_value=w.today)
    ended = st.booleans()

    @st.composite
    def valid(draw):
        data = draw(plain)
        started_on, fmt = draw(starts), draw(DATE_FORMATS)
        data["started_on"] = fmt(started_on)
        data["ended_on"] = fmt(day_between(draw, started_on, w.today)) if draw(ended) else ""
        return data

    nasty = {
        "employer": nasty_pk(w.other_employer.pk),
        "kind": nasty_choice(_values(Placement.Kind)),
        "started_on": NASTY_DATE,
        "ended_on": NASTY_DATE,
        "notes": NASTY_TEXT,
    }
    return valid(), nasty


def placement_data(w):
    return at(_ref_url("placement_new", w.active), mutated(*_placement_fields(w)))


def placement_edit_data(w):
    url = reverse("placement_edit", args=[w.placement.pk])
    return at(url, _edited(_placement_fields(w), w.placement))


def _goal_fields(w):
    plain = st.fixed_dictionaries(
        {
            "support_area": st.sampled_from(w.areas).map(str),
            "description": TEXT_300,
            "status": st.sampled_from(_values(Goal.Status)),
        }
    )
    set_dates = st.dates(min_value=w.active.referred_on, max_value=w.today)
    targeted = st.booleans()

    @st.composite
    def valid(draw):
        data = draw(plain)
        set_on, fmt = draw(set_dates), draw(DATE_FORMATS)
        data["set_on"] = fmt(set_on)
        data["target_date"] = ""
        if draw(targeted):
            data["target_date"] = fmt(day_between(draw, set_on, w.today + timedelta(days=900)))
        return data

    nasty = {
        "support_area": nasty_pk(),
        "description": NASTY_TEXT,
        "set_on": NASTY_DATE,
        "target_date": NASTY_DATE,
        "status": nasty_choice(_values(Goal.Status)),
    }
    return valid(), nasty


def goal_data(w):
    return at(_ref_url("goal_new", w.active), mutated(*_goal_fields(w)))


def goal_edit_data(w):
    url = reverse("goal_edit", args=[w.goal.pk])
    return at(url, _edited(_goal_fields(w), w.goal))


def goal_status_data(w):
    valid = st.fixed_dictionaries({"status": st.sampled_from(_values(Goal.Status))})
    url = reverse("goal_status", args=[w.goal.pk])
    return at(url, mutated(valid, {"status": nasty_choice(_values(Goal.Status))}))


NEW_PASSWORD = "a-longer-passphrase-2026"


def _new_password_nasty():
    return st.one_of(NASTY_TEXT, st.sampled_from(["password", "12345678", "coord_a"]))


def password_change_data(w):
    valid = st.fixed_dictionaries(
        {
            "old_password": st.just(factories.PASSWORD),
            "new_password1": st.just(NEW_PASSWORD),
            "new_password2": st.just(NEW_PASSWORD),
        }
    )
    nasty = {
        "old_password": NASTY_TEXT,
        "new_password1": _new_password_nasty(),
        "new_password2": NASTY_TEXT,
    }
    return at(reverse("password_change"), mutated(valid, nasty))


OFFSITE_NEXT = st.sampled_from(
    [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:///evil.example",
        "/<script>alert(1)</script>",
    ]
)


def login_data(w):
    valid = st.fixed_dictionaries(
        {
            "username": st.just(w.coordinator.username),
            "password": st.just(factories.PASSWORD),
            "next": st.sampled_from(["", "/clients/", "/"]),
        }
    )
    username = st.one_of(NASTY_TEXT, st.just(w.coordinator.username.upper()))
    nasty = {
        "username": username,
        "password": NASTY_TEXT,
        "next": st.one_of(OFFSITE_NEXT, NASTY_TEXT),
    }
    return at(reverse("login"), mutated(valid, nasty))


def logout_data(w):
    return at(reverse("logout"), mutated(st.just({}), {"next": OFFSITE_NEXT}))


def password_reset_data(w):
    valid = st.fixed_dictionaries(
        {"email": st.sampled_from([w.coordinator.email, "nobody@example.org"])}
    )
    nasty = {"email": st.one_of(NASTY_TEXT, st.builds(lambda p: f"{p}@example.org", PAYLOAD))}
    return at(reverse("password_reset"), mutated(valid, nasty))


def password_reset_confirm_data(w):
    """The link from the e-mail (resolved when sent), or a link that was tampered with."""
    valid = st.fixed_dictionaries(
        {"new_password1": st.just(NEW_PASSWORD), "new_password2": st.just(NEW_PASSWORD)}
    )
    nasty = {"new_password1": _new_password_nasty(), "new_password2": NASTY_TEXT}
    bad_link = st.tuples(
        st.one_of(st.just("MQ"), st.text(alphabet=string.ascii_letters + "-_", min_size=1)),
        st.one_of(
            st.just("set-password"), st.text(alphabet=string.ascii_letters + "-", min_size=1)
        ),
    ).map(lambda parts: reverse("password_reset_confirm", args=parts))
    link = st.one_of(st.just(RESET_LINK), st.just(RESET_LINK), st.just(RESET_LINK), bad_link)
    return st.tuples(link, mutated(valid, nasty))


RESET_LINK = "<the coordinator's reset link>"


def two_factor_setup_data(w):
    valid = st.fixed_dictionaries({"code": st.just(Live(w.setup_app))})
    nasty = {"code": st.one_of(st.just("000000"), NASTY_TEXT), "next": OFFSITE_NEXT}
    return at(reverse("two_factor_setup"), mutated(valid, nasty))


def two_factor_verify_data(w):
    valid = st.fixed_dictionaries(
        {"code": st.sampled_from([Live(w.enrolled_app), "abcd2345", "ABCD-2345", "123 456"])}
    )
    nasty = {"code": st.one_of(st.just("000000"), NASTY_TEXT), "next": OFFSITE_NEXT}
    return at(reverse("two_factor_verify"), mutated(valid, nasty))


def two_factor_codes_data(w):
    # A verified session asks for new recovery codes; the button sends nothing else.
    return at(reverse("two_factor"), mutated(st.just({}), {"codes": NASTY_TEXT}))


def client_printed_data(w):
    prefix = f"/clients/{w.active.reference}/"
    valid = st.fixed_dictionaries(
        {
            "page": st.one_of(
                st.sampled_from([prefix, f"{prefix}export/", f"{prefix}history/"]),
                st.builds(lambda p: f"{prefix}?q={p}", PAYLOAD),
                st.builds(lambda p: f"{prefix}{p}", PAYLOAD),
                st.builds(lambda p: prefix + _long(p), PAYLOAD),
                NASTY_TEXT.map(lambda t: prefix + t),
            )
        }
    )
    return at(_ref_url("client_printed", w.active), mutated(valid, {"page": NASTY_TEXT}))


def admin_assignment_data(w):
    valid = st.fixed_dictionaries(
        {
            "client": st.just(str(w.unassigned.pk)),
            "mentor": st.sampled_from([str(w.spare_mentor.pk), str(w.full_mentor.pk)]),
            "started_on": dates_between(w.unassigned.started_on, w.today),
            "ended_on": st.just(""),
            "end_reason": st.just(""),
            "confirm_over_capacity": TICKED,
        }
    )
    nasty = {
        "client": nasty_pk(w.active.pk, w.other_client.pk),
        "mentor": nasty_pk(w.other_mentor.pk),
        "started_on": NASTY_DATE,
        "ended_on": NASTY_DATE,
        "end_reason": nasty_choice(_values(Assignment.EndReason)),
        "confirm_over_capacity": NASTY_BOOL,
    }
    return at(reverse("admin:mentoring_assignment_add"), mutated(valid, nasty))


def client_list_query(w):
    valid = st.fixed_dictionaries(
        {},
        optional={
            "q": st.one_of(WORD, PAYLOAD),
            "borough": st.sampled_from([w.borough.slug, w.other_borough.slug]),
            "status": st.sampled_from(_values(Client.Status)),
            "risk": st.sampled_from(_values(Client.RiskLevel)),
            "mentor": st.sampled_from([str(w.full_mentor.pk), str(w.spare_mentor.pk)]),
            "needs_contact": st.just("1"),
            "sort": st.sampled_from(
                ["reference", "-name", "borough", "status", "-referred", "last_contact", "risk"]
            ),
            "page": st.sampled_from(["1", "2"]),
        },
    )
    names = ("q", "borough", "status", "risk", "needs_contact", "sort", "page", "mentor")
    nasty = dict.fromkeys(names, NASTY_TEXT)
    return at(reverse("client_list"), mutated(valid, nasty))


def dashboard_query(w):
    """
    Mostly dates the page must refuse (a full dashboard costs a tenth of a second, a
    refusal almost nothing), sometimes a good one, with or without a download.
    """
    as_of = st.one_of(dates_between(date(2000, 1, 1), w.today), NASTY_DATE, NASTY_DATE)
    query = st.fixed_dictionaries(
        {"as_of": as_of},
        optional={"download": st.one_of(st.sampled_from(["figures", "monthly"]), NASTY_TEXT)},
    )
    return at(reverse("borough_dashboard", args=[w.borough.slug]), query)


# How each form is judged ---------------------------------------------------------------


def success_message(response):
    """A 302 carrying a success message: the view says it saved."""
    levels = [m.level for m in get_messages(response.wsgi_request)]
    return response.status_code == 302 and messages.SUCCESS in levels


def redirected(response):
    return response.status_code == 302


def showed_codes(response):
    names = [t.name for t in response.templates]
    return response.status_code == 200 and "registration/two_factor_codes.html" in names


def never(response):
    return False


def _reference(w, response):
    """The client the view sent us back to (its page's URL), else the active client."""
    match = re.fullmatch(r"/clients/([^/]+)/", response.get("Location", ""))
    return match.group(1) if match else w.active.reference


def record_pages(w, response):
    """Where a client's records show: the client page, the export and the change history."""
    reference = _reference(w, response)
    return [
        reverse("client_detail", args=[reference]),
        reverse("client_export", args=[reference]),
        reverse("client_history", args=[reference]),
    ]


def mentor_pages(w, response):
    """The new mentor's page, where the view sent us, and the client's pages."""
    return [response["Location"], *record_pages(w, response), reverse("mentor_list")]


def client_pages(w, response):
    """A client's name also shows on the home page and in the client list."""
    return [*record_pages(w, response), reverse("home"), reverse("client_list")]


def admin_assignment_pages(w, response):
    assignment = Assignment.objects.order_by("-pk").first()
    return [
        reverse("admin:mentoring_assignment_change", args=[assignment.pk]),
        reverse("client_detail", args=[assignment.client.reference]),
    ]


def no_pages(w, response):
    return []


@dataclass
class FormCase:
    name: str
    data: object  # world -> strategy of (url, data)
    user: str | None = "coordinator"
    method: str = "post"
    succeeded: object = success_message  # response -> did the view save?
    pages: object = record_pages  # (world, response) -> URLs that show what was saved
    statuses: frozenset = frozenset({200, 302})
    min_successes: int = 10
    min_refusals: int = 10


CASES = [
    FormCase("client_new", client_new_data, pages=client_pages),
    FormCase("client_edit", client_edit_data, pages=client_pages),
    FormCase("client_start", start_data),
    FormCase("client_decline", decline_data, min_refusals=0),
    FormCase("client_assign", assign_data),
    FormCase("client_close", close_data),
    FormCase("client_transfer", transfer_data),
    FormCase("session_new", session_new_data),
    FormCase("session_edit", session_edit_data),
    FormCase("offence_new", offence_data),
    FormCase("milestone_new", milestone_data),
    FormCase("offence_edit", offence_edit_data),
    FormCase("placement_new", placement_data),
    FormCase("placement_edit", placement_edit_data),
    FormCase("milestone_edit", milestone_edit_data),
    FormCase("goal_new", goal_data),
    FormCase("goal_edit", goal_edit_data),
    FormCase("goal_status", goal_status_data, statuses=frozenset({302})),
    FormCase("followup_record", check_in_data),
    FormCase("followup_edit", check_in_edit_data),
    FormCase("pathway_step_new", pathway_step_data),
    FormCase("pathway_step_edit", pathway_step_edit_data),
    FormCase("client_becomes_mentor", becomes_mentor_data, pages=mentor_pages),
    FormCase("password_change", password_change_data, succeeded=redirected, pages=no_pages),
    FormCase(
        "login",
        login_data,
        user=None,
        succeeded=redirected,
        pages=no_pages,
        # django-axes answers a locked username and address with 429.
        statuses=frozenset({200, 302, 429}),
    ),
    FormCase("logout", logout_data, succeeded=redirected, pages=no_pages, min_refusals=0),
    FormCase(
        "password_reset", password_reset_data, user=None, succeeded=redirected, pages=no_pages
    ),
    FormCase(
        "password_reset_confirm",
        password_reset_confirm_data,
        user=None,
        succeeded=redirected,
        pages=no_pages,
    ),
    FormCase("two_factor_setup", two_factor_setup_data, succeeded=showed_codes, pages=no_pages),
    FormCase(
        "two_factor_verify",
        two_factor_verify_data,
        user="enrolled",
        succeeded=redirected,
        pages=no_pages,
    ),
    FormCase(
        "two_factor_new_codes",
        two_factor_codes_data,
        user="enrolled_verified",
        succeeded=showed_codes,
        pages=no_pages,
        min_refusals=0,
    ),
    FormCase(
        "client_printed",
        client_printed_data,
        succeeded=lambda r: r.status_code == 204,
        pages=lambda w, r: [reverse("client_export", args=[w.active.reference])],
        statuses=frozenset({204}),
        min_refusals=0,
    ),
    FormCase(
        "admin_assignment_add",
        admin_assignment_data,
        user="admin",
        succeeded=redirected,
        pages=admin_assignment_pages,
    ),
    FormCase(
        "client_list_search",
        client_list_query,
        method="get",
        succeeded=never,
        # A NUL anywhere in the query string is a bad request (RefuseNulMiddleware).
        statuses=frozenset({200, 400}),
        min_successes=0,
        min_refusals=0,
    ),
    FormCase(
        "dashboard_as_of",
        dashboard_query,
        method="get",
        succeeded=never,
        statuses=frozenset({200, 400}),
        min_successes=0,
        min_refusals=0,
    ),
]


# The checks ----------------------------------------------------------------------------

# Written on purpose by the pages that only read (who looked) and by signing in and out.
BOOKKEEPING = {"mentoring.AccessLog", "accounts.SignedInSession"}


def without_bookkeeping(rows):
    return {label: value for label, value in rows.items() if label not in BOOKKEEPING}


def written(before, after):
    """The values in rows that are new or changed."""
    values = []
    for label, rows in after.items():
        old = set(before[label])
        for row in rows:
            if row not in old:
                values.extend(row)
    return values


def oddities(before, after):
    """
    What is odd about the values written: (table, column, kind) for text holding an HTML
    payload, very long text, control characters, and dates far in the past or future.
    """
    found = set()
    for label, rows in after.items():
        old = set(before[label])
        for row in rows:
            if row in old:
                continue
            for column, value in enumerate(row):
                for kind in _odd_kinds(value):
                    found.add((label, column, kind))
    return found


def _odd_kinds(value):
    if isinstance(value, str):
        if any(p in value for p in HTML_PAYLOADS):
            yield "html"
        if len(value) > 500:
            yield "long"
        if any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in value):
            yield "control"
        if not value.isascii():
            yield "unicode"
    elif type(value) is date and not 1900 <= value.year <= 2100:
        yield "far date"


def assert_no_raw_payload(body, where):
    for payload in HTML_PAYLOADS:
        assert payload not in body, f"{where} shows {payload!r} unescaped"


def send(browser, case, url, data, encoding):
    if case.method == "get":
        return browser.get(url, data)
    if encoding == "multipart":
        return browser.post(url, data)
    charset = "utf-8" if encoding == "urlencoded" else "latin-1"
    body = urlencode(data, doseq=True, encoding=charset, errors="replace")
    return browser.post(url, body, content_type="application/x-www-form-urlencoded")


def session_cookie(world, user_name):
    """A session for the case's user, made once: each example's writes are rolled back."""
    if user_name is None:
        return None
    verified = user_name.endswith("_verified")
    user = getattr(world, user_name.removesuffix("_verified"))
    browser = Browser()
    browser.force_login(user)
    if verified:
        session = browser.session
        session[DEVICE_ID_SESSION_KEY] = world.enrolled_app.persistent_id
        session.save()
    return browser.cookies[django_settings.SESSION_COOKIE_NAME].value


def reset_link(browser, world):
    """Open the coordinator's password-reset link: it sends us to the set-password form."""
    user = world.coordinator
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    opened = browser.get(reverse("password_reset_confirm", args=[uid, token]))
    assert opened.status_code == 302, "the reset link did not open"
    return opened["Location"]


def fuzz_form(case, world):
    """Send ``case`` at least 200 generated submissions; the tally of what happened."""
    key = session_cookie(world, case.user)
    # One test client for all examples: a new one loads the middleware again, and
    # WhiteNoise's scan of the static files costs a tenth of a second each time.
    browser = Browser()
    dashboard = reverse("borough_dashboard", args=[world.borough.slug])
    tally = Counter()
    seen = set()

    @FUZZ
    @given(
        sent=case.data(world),
        encoding=st.sampled_from(["multipart", "urlencoded", "urlencoded-latin-1"]),
    )
    def example(sent, encoding):
        tally["examples"] += 1
        url, data = sent
        data = {k: v.code() if isinstance(v, Live) else v for k, v in data.items()}
        with transaction.atomic():
            browser.cookies = SimpleCookie()
            if key:
                browser.cookies[django_settings.SESSION_COOKIE_NAME] = key
            if url == RESET_LINK:
                url = reset_link(browser, world)
            before = snapshot()
            response = send(browser, case, url, data, encoding)
            status = response.status_code
            assert status < 500
            assert status in case.statuses, f"unexpected {status} for {data!r}"
            if status == 302:
                location = response["Location"]
                assert url_has_allowed_host_and_scheme(location, {"testserver"}), (
                    f"sent off-site to {location!r}"
                )
            assert_no_raw_payload(response.content.decode(errors="replace"), url)
            after = snapshot()
            if case.succeeded(response):
                tally["succeeded"] += 1
                values = written(before, after)
                odd = oddities(before, after) - seen
                # The pages are drawn for the first successes, then whenever something odd
                # was saved in a column for the first time (drawing every time is too slow).
                if odd or tally["succeeded"] <= 3:
                    pages = case.pages(world, response)
                    if any(kind == "far date" for _, _, kind in odd):
                        # A date far in the past or future must not break the figures.
                        pages.append(dashboard)
                        tally["far dates saved, dashboard checked"] += 1
                    bodies = []
                    for page in pages:
                        shown = browser.get(page)
                        assert shown.status_code == 200, f"{page} answered {shown.status_code}"
                        bodies.append(shown.content.decode())
                        assert_no_raw_payload(bodies[-1], page)
                    tally["saved values checked on pages"] += 1
                    for payload in HTML_PAYLOADS:
                        if any(isinstance(v, str) and payload in v for v in values):
                            tally["payloads saved, shown escaped"] += 1
                            assert any(escape(payload) in body for body in bodies), (
                                f"saved {payload!r} is shown nowhere, escaped"
                            )
                    # Only once the pages passed: a failing example fails again when
                    # hypothesis replays it.
                    seen.update(odd)
            else:
                tally["refused"] += 1
                assert without_bookkeeping(after) == without_bookkeeping(before), (
                    f"a refused request wrote rows: {data!r}"
                )
            transaction.set_rollback(True)

    example()
    return tally


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_form_survives_fuzzing(case, world):
    try:
        case.data(world)
    except NoReverseMatch as missing:  # pragma: no cover - a page being built elsewhere
        pytest.skip(f"no such page yet: {missing}")
    tally = fuzz_form(case, world)
    print(case.name, dict(tally))
    assert tally["examples"] >= EXAMPLES
    assert tally["succeeded"] >= case.min_successes, tally
    assert tally["refused"] >= case.min_refusals, tally


def test_the_world_is_what_the_forms_expect(world):
    """The coordinator's borough holds every client the cases post to."""
    assert world.coordinator.staff_profile.role == StaffProfile.Role.COORDINATOR
    for client in (world.referred, world.active, world.unassigned):
        assert client.borough == world.borough
    assert world.referred.status == Client.Status.REFERRED
    assert world.active.assignments.get(ended_on__isnull=True).mentor == world.full_mentor
    assert not world.unassigned.assignments.exists()


# The admin's own forms -----------------------------------------------------------------


def test_client_admin_form_survives_fuzzing(world):
    """
    ClientAdminForm, the admin's client form, on 200 generated submissions: validating
    and (when valid) saving never raises, and an invalid form writes nothing. Its admin
    page renders seven inlines and is too slow to post to 200 times within this suite's
    time budget; test_client_admin_page_survives_nasty_values posts through it.
    """
    statuses = _values(Client.Status)
    nasty = {
        **_client_nasty(world),
        "borough": nasty_pk(world.other_borough.pk),
        "status": nasty_choice(statuses),
        "started_on": NASTY_DATE,
        "release_date": NASTY_DATE,
        "ended_on": NASTY_DATE,
        "closure_reason": nasty_choice(_values(Client.ClosureReason)),
    }

    valid = client_fields(world, latest_referral=world.today, status="REFERRED")
    tally = Counter()

    @FUZZ
    @given(data=mutated(valid, nasty))
    def example(data):
        tally["examples"] += 1
        with transaction.atomic():
            before = snapshot()
            form = ClientAdminForm(data=data)
            if form.is_valid():
                tally["succeeded"] += 1
                client_save(client=form.save(commit=False), by=world.admin)
                form.save_m2m()
            else:
                tally["refused"] += 1
                assert snapshot() == before
                if any(p in str(v) for p in HTML_PAYLOADS for v in data.values()):
                    assert_no_raw_payload(str(form), "the admin's client form")
            transaction.set_rollback(True)

    example()
    print("client admin form", dict(tally))
    assert tally["examples"] >= EXAMPLES
    assert tally["succeeded"] >= 10 and tally["refused"] >= 10, tally


def test_client_admin_page_survives_nasty_values(world):
    """A few nasty submissions through the admin's client page itself."""
    browser = Browser()
    browser.force_login(world.admin)
    url = reverse("admin:mentoring_client_add")
    page = browser.get(url).content.decode()
    prefixes = re.findall(r'name="([^"]+)-TOTAL_FORMS"', page)
    management = {}
    for prefix in prefixes:
        management[f"{prefix}-TOTAL_FORMS"] = "0"
        management[f"{prefix}-INITIAL_FORMS"] = "0"
    base = {
        "first_name": "Kai",
        "last_name": "Brown",
        "date_of_birth": "01/03/2004",
        "gender": "MALE",
        "borough": str(world.borough.pk),
        "referral_source": "POLICE",
        "referred_on": "15/09/2024",
        "risk_level": "MEDIUM",
        "status": "REFERRED",
        **management,
    }
    before = snapshot()
    first, second, third, fourth, fifth, sixth = HTML_PAYLOADS
    for changes in (
        {"first_name": first, "preferred_name": second, "referred_on": "31/02/2020"},
        {"address": _long(third), "last_name": fourth, "date_of_birth": "0001-01-01"},
        {"last_name": f"a\x00{fifth}", "phone": _long("9"), "first_name": sixth},
    ):
        response = browser.post(url, {**base, **changes})
        assert response.status_code == 200
        assert_no_raw_payload(response.content.decode(), url)
    assert snapshot() == before
    saved = browser.post(url, {**base, "first_name": HTML_PAYLOADS[0]})
    assert saved.status_code == 302
    client = Client.objects.get(first_name=HTML_PAYLOADS[0])
    shown = browser.get(reverse("admin:mentoring_client_change", args=[client.pk]))
    assert_no_raw_payload(shown.content.decode(), "admin client page")
    assert escape(HTML_PAYLOADS[0]) in shown.content.decode()


# Found by the fuzzing above, fixed, and kept ----------------------------------------

BAD_KEYS = ["1.0", "x", "9223372036854775808", "-9223372036854775809"]


def _choice_fields_of_admin_add_pages():
    """(admin add URL name, field, many?) for every autocomplete and many-to-many field."""
    from django.contrib import admin

    found = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "mentoring":
            continue
        url = f"admin:{model._meta.app_label}_{model._meta.model_name}_add"
        many = {f.name for f in model._meta.many_to_many}
        for name in [*model_admin.autocomplete_fields, *sorted(many)]:
            found.append(pytest.param(url, name, name in many, id=f"{model.__name__}.{name}"))
    return found


def test_every_admin_page_and_inline_guards_its_choices_of_records():
    """
    Ours use RecordChoices; the few registered by packages (django-axes' logs) choose no
    records at all.
    """
    from django.contrib import admin

    from mentoring.admin import RecordChoices

    ours = []
    for model, model_admin in admin.site._registry.items():
        inlines = [model_admin, *(inline(model, admin.site) for inline in model_admin.inlines)]
        for each in inlines:
            if type(each).__module__ == "mentoring.admin":
                assert isinstance(each, RecordChoices), type(each).__name__
                ours.append(each)
            else:
                assert not each.autocomplete_fields, type(each).__name__
    assert len(ours) >= 10, "the admin pages of mentoring.admin were not found"


@pytest.mark.parametrize("value", BAD_KEYS)
@pytest.mark.parametrize(("url", "field", "many"), _choice_fields_of_admin_add_pages())
def test_admin_choice_of_records_refuses_a_value_no_record_can_have(world, url, field, many, value):
    """
    Every record chosen in the admin (autocomplete boxes, many-to-many lists) sent a value
    that cannot be a key: the form's error, never a 500 (autocomplete redrawing the box
    looked them up: ValueError; SQLite overflowed on numbers beyond 64 bits).
    """
    browser = Browser()
    browser.force_login(world.admin)
    before = snapshot()
    response = browser.post(reverse(url), {field: [value, value] if many else value})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode() or (
        "is not a valid value" in response.content.decode()
    )
    assert snapshot() == before


@pytest.mark.parametrize("value", BAD_KEYS)
@pytest.mark.parametrize("field", ["support_areas", "needs"])
def test_multiple_choice_refuses_a_value_no_record_can_have(world, field, value):
    browser = Browser()
    browser.force_login(world.coordinator)
    url = {
        "support_areas": _ref_url("client_session_new", world.active),
        "needs": _ref_url("client_edit", world.active),
    }[field]
    before = snapshot()
    response = browser.post(url, {field: value})
    assert response.status_code == 200
    assert "is not a valid value" in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("param", ["q", "borough", "status", "sort"])
def test_client_list_query_with_nul_is_a_bad_request(world, param):
    """PostgreSQL cannot compare text holding NUL: the search used to be a 500 there."""
    browser = Browser()
    browser.force_login(world.coordinator)
    response = browser.get(reverse("client_list"), {param: "a\x00b"})
    assert response.status_code == 400
    assert "cannot be read" in response.content.decode()


def test_admin_search_with_nul_is_a_bad_request(world):
    browser = Browser()
    browser.force_login(world.admin)
    response = browser.get(reverse("admin:mentoring_client_changelist"), {"q": "\x00"})
    assert response.status_code == 400


def test_print_log_with_nul_in_the_page_logs_the_client_page(world):
    browser = Browser()
    browser.force_login(world.coordinator)
    prefix = f"/clients/{world.active.reference}/"
    response = browser.post(_ref_url("client_printed", world.active), {"page": f"{prefix}\x00"})
    assert response.status_code == 204
    logged = AccessLog.objects.filter(client=world.active, action=AccessLog.Action.PRINT)
    assert list(logged.values_list("path", flat=True)) == [prefix]


@pytest.mark.parametrize("suffix", ["%00/", "%00/edit/", "%00/export/", "/%00"])
def test_client_address_with_nul_is_not_found(world, suffix):
    browser = Browser()
    browser.force_login(world.coordinator)
    assert browser.get(f"/clients/{world.active.reference}{suffix}").status_code == 404


def test_sign_in_with_a_very_long_username_is_a_form_error(world):
    """The 256-character username used to reach django-axes' 255-character column."""
    before = snapshot()
    response = Browser().post(reverse("login"), {"username": "a" * 256, "password": "x"})
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()
    assert snapshot() == before
