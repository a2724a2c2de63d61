"""
CSRF on every page that takes a POST, and no switching off of HTML escaping for user data.

(a) Every URL of the mentoring app and of the account pages (sign-in, sign-out, password
    change and reset, two-factor) is found by walking the URL resolver, not listed by
    hand, so a new page is covered the day it is added. A POST without a CSRF token, from
    a signed-in coordinator of the borough (or a visitor, for the pages open to
    visitors), gets Django's CSRF refusal (403) and writes nothing; the same POST with
    the token is not refused for CSRF, which shows the 403 came from the missing token.

(b) A static check of templates/, mentoring/, accounts/ and sos/ (templates, Python and
    the app's own JavaScript) for the ways escaping is turned off: |safe, |safeseq,
    {% autoescape off %}, mark_safe, SafeString, format_html fed a pre-built string,
    csrf_exempt, innerHTML and friends. Each use must be on the allow-list below with the
    reason it is harmless, and each allow-list entry must still be in use.
"""

import ast
import re
from collections import Counter

import pytest
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.db import transaction
from django.test import Client as Browser
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .. import factories
from ..helpers import PROJECT_ROOT, days_ago, snapshot

# (a) CSRF -------------------------------------------------------------------------------


def _routes(patterns, prefix="", namespace=None):
    """(route, url name, namespace, callback) for every URL pattern, nested ones included."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name, namespace, pattern.callback


def app_routes():
    """The mentoring app's pages and the account pages; the Django admin is left out."""
    routes = []
    for route, name, namespace, callback in _routes(get_resolver().url_patterns):
        if namespace == "admin":
            continue
        module = getattr(callback, "__module__", "") or ""
        view_class = getattr(callback, "view_class", None)
        if view_class is not None:
            module = view_class.__module__
        if module.startswith("mentoring.") or route.startswith("accounts/"):
            routes.append((route, name))
    return routes


ROUTES = app_routes()
# Pages a visitor who is not signed in may post to.
OPEN_TO_VISITORS = {"login", "password_reset", "password_reset_confirm"}


@pytest.fixture
def cast(borough_a, coordinator_a):
    """A client of each status the pages act on, its mentor, session and goal."""
    referred = factories.ClientFactory(borough=borough_a)
    active = factories.ClientFactory(borough=borough_a, active=True)
    assignment = factories.AssignmentFactory(client=active)
    completed = factories.ClientFactory(borough=borough_a, closed=True, referred_on=days_ago(500))
    return {
        "completed": completed,
        "followup": factories.FollowUpFactory(client=completed),
        "coordinator": coordinator_a,
        "referred": referred,
        "active": active,
        "mentor": assignment.mentor,
        "session": factories.SupportSessionFactory(
            client=active,
            mentor=assignment.mentor,
            logged_by=coordinator_a,
            safeguarding_concern=True,  # so that its follow-up page opens
        ),
        "goal": factories.GoalFactory(client=active),
        "offence": factories.OffenceFactory(client=active),
        "milestone": factories.MilestoneFactory(client=active),
        "placement": factories.PlacementFactory(client=active),
        "pathway_step": factories.PathwayStepFactory(client=active, reached_on=active.started_on),
        "borough": borough_a,
    }


def url_for(name, route, cast):
    """The URL of ``name`` with real values for its parameters."""
    params = re.findall(r"<(?:\w+:)?(\w+)>", route)
    values = {
        "reference": (
            cast["referred"]
            if name in {"client_start", "client_decline"}
            else cast["completed"]
            if name == "followup_record"
            else cast["active"]
        ).reference,
        "point": 6,
        "slug": cast["borough"].slug,
        "uidb64": urlsafe_base64_encode(force_bytes(cast["coordinator"].pk)),
        "token": default_token_generator.make_token(cast["coordinator"]),
    }
    pks = {
        "goal_status": cast["goal"].pk,
        "offence_edit": cast["offence"].pk,
        "milestone_edit": cast["milestone"].pk,
        "placement_edit": cast["placement"].pk,
        "pathway_step_edit": cast["pathway_step"].pk,
        "goal_edit": cast["goal"].pk,
        "session_edit": cast["session"].pk,
        "safeguarding_follow_up": cast["session"].pk,
        "followup_edit": cast["followup"].pk,
    }
    pks["mentor_detail"] = cast["mentor"].pk
    if "pk" in params:
        assert name in pks, f"teach this test which record {name}'s pk is"
        values["pk"] = pks[name]
    unknown = set(params) - set(values)
    assert not unknown, f"teach this test the URL parameters {unknown} of {name}"
    return reverse(name, kwargs={p: values[p] for p in params})


def csrf_refused(response):
    names = [t.name for t in response.templates]
    return response.status_code == 403 and "403_csrf.html" in names


def post_both_ways(url, user):
    """The answer to a POST without a token, then to the same POST with one."""
    without = Browser(enforce_csrf_checks=True)
    with_token = Browser(enforce_csrf_checks=True)
    for browser in (without, with_token):
        if user is not None:
            browser.force_login(user)
    # Any page that renders a form sets the CSRF cookie; its value is a valid token.
    with_token.get(reverse("login"))
    token = with_token.cookies[settings.CSRF_COOKIE_NAME].value
    data = {"page": url, "status": "OPEN"}
    before = snapshot()
    refused = without.post(url, data)
    assert snapshot() == before, f"a POST without a CSRF token to {url} wrote rows"
    with transaction.atomic():
        accepted = with_token.post(url, {**data, "csrfmiddlewaretoken": token})
        transaction.set_rollback(True)
    return refused, accepted


@pytest.mark.parametrize(("route", "name"), ROUTES, ids=[name for _, name in ROUTES])
def test_post_without_csrf_token_is_refused(route, name, cast):
    url = url_for(name, route, cast)
    user = None if name in OPEN_TO_VISITORS else cast["coordinator"]
    refused, accepted = post_both_ways(url, user)
    assert not csrf_refused(accepted), f"{url} refused a POST that had its token"
    if accepted.status_code == 405:
        # The page takes no POST; the CSRF check still answers first.
        assert refused.status_code in {403, 405}
        return
    assert csrf_refused(refused), f"{url} took a POST without a CSRF token"
    assert "This form has expired" in refused.content.decode()


def test_a_visitor_posting_without_a_token_is_refused_too(cast):
    """The CSRF check comes before the sign-in check, so nothing reveals what is there."""
    for url in (reverse("client_new"), reverse("logout"), reverse("password_change")):
        response = Browser(enforce_csrf_checks=True).post(url, {})
        assert csrf_refused(response), url


def test_the_walk_finds_every_form():
    """The resolver walk sees the pages with forms; a rename here would hide a page."""
    names = {name for _, name in ROUTES}
    expected = {
        "client_new",
        "client_edit",
        "client_start",
        "client_decline",
        "client_assign",
        "assignment_end",
        "client_close",
        "client_transfer",
        "client_session_new",
        "session_new",
        "session_edit",
        "safeguarding_follow_up",
        "offence_new",
        "milestone_new",
        "goal_new",
        "goal_status",
        "offence_edit",
        "milestone_edit",
        "placement_new",
        "placement_edit",
        "goal_edit",
        "pathway_step_new",
        "pathway_step_edit",
        "client_becomes_mentor",
        "login",
        "logout",
        "password_change",
        "password_reset",
        "password_reset_confirm",
        "two_factor",
        "two_factor_setup",
        "two_factor_verify",
    }
    assert expected <= names, expected - names
    assert not any(route.startswith("admin/") for route, _ in ROUTES)


def _admin_pages():
    from django.contrib import admin

    for model, model_admin in admin.site._registry.items():
        if type(model_admin).__module__ == "mentoring.admin":
            info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
            yield pytest.param(info, id=info.removeprefix("admin:"))


@pytest.mark.parametrize("info", list(_admin_pages()))
def test_admin_posts_without_a_token_are_refused(info, cast, admin_user):
    """The admin's add page and its list (where bulk actions post) of every model of ours."""
    browser = Browser(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    before = snapshot()
    for url in (reverse(f"{info}_changelist"), reverse(f"{info}_add")):
        response = browser.post(url, {"action": "delete_selected", "_selected_action": "1"})
        assert csrf_refused(response), url
    assert snapshot() == before


def test_the_reset_link_form_is_covered(cast):
    """password_reset_confirm moves the token into the session and posts to set-password."""
    url = url_for("password_reset_confirm", "<uidb64>/<token>", cast)
    opened = Browser(enforce_csrf_checks=True)
    form_url = opened.get(url)["Location"]
    assert resolve(form_url).url_name == "password_reset_confirm"
    refused = opened.post(form_url, {"new_password1": "x", "new_password2": "x"})
    assert csrf_refused(refused)


def test_every_post_form_in_the_templates_carries_a_token():
    """Each <form method="post"> in the templates holds {% csrf_token %}."""
    posting, missing = [], []
    templates = [
        *(PROJECT_ROOT / "templates").rglob("*.html"),
        *(PROJECT_ROOT / "accounts").rglob("*.html"),
    ]
    for path in sorted(templates):
        text = path.read_text(encoding="utf-8")
        for form in re.finditer(r"<form\b[^>]*>(.*?)</form>", text, re.S | re.I):
            opening = form.group(0)[: form.group(0).index(">") + 1]
            posts = re.search(r"method\s*=\s*[\"']?post", opening, re.I)
            if posts:
                posting.append(path)
            if posts and "{% csrf_token %}" not in form.group(1):
                missing.append(f"{path.relative_to(PROJECT_ROOT)}: {opening}")
    assert len(posting) >= 10, "the templates' forms were not found"
    assert not missing, missing


# (b) Escaping: a static check -----------------------------------------------------------

TEMPLATE_PATTERNS = {
    "|safe": re.compile(r"\|\s*safe\b(?!seq)"),
    "|safeseq": re.compile(r"\|\s*safeseq\b"),
    "autoescape off": re.compile(r"{%\s*autoescape\s+off\s*%}"),
    "filter safe": re.compile(r"{%\s*filter\s+[^%]*\bsafe\b"),
}
JS_PATTERNS = {
    "innerHTML": re.compile(r"\.(?:inner|outer)HTML\s*[+]?="),
    "insertAdjacentHTML": re.compile(r"\binsertAdjacentHTML\s*\("),
    "document.write": re.compile(r"\bdocument\.write(?:ln)?\s*\("),
    "jQuery html()": re.compile(r"\.html\s*\(\s*[^)\s]"),
}
# Calls that make a string skip escaping, and decorators that turn protections off.
UNSAFE_CALLS = {"mark_safe", "SafeString", "SafeText", "SafeData", "html_safe", "csrf_exempt"}
FORMAT_HTML = {"format_html", "format_html_join"}

# Each reviewed use: (path, what) -> why it is harmless. None: even the plain-text
# password-reset e-mail keeps escaping on (test_password_reset_email_is_plain_text).
ALLOWED = {}


def _call_name(node):
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def python_findings(path, source):
    """(what, line) for each unsafe call or decorator and each misuse of format_html."""
    findings = []
    tree = ast.parse(source, filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if name in UNSAFE_CALLS:
                findings.append((name, node.lineno))
            elif name in FORMAT_HTML:
                template = node.args[0] if node.args else None
                # format_html escapes its arguments, never its format string: that string
                # must be a literal, not an f-string, a % or .format() result or a variable.
                if not (isinstance(template, ast.Constant) and isinstance(template.value, str)):
                    findings.append((f"{name} with a built format string", node.lineno))
                elif not node.args[1:] and not node.keywords:
                    findings.append((f"{name} without arguments", node.lineno))
            for keyword in node.keywords:
                if keyword.arg == "autoescape" and not _is_true(keyword.value):
                    findings.append(("autoescape=False", node.lineno))
                if keyword.arg == "is_safe" and _is_true(keyword.value):
                    findings.append(("filter is_safe=True", node.lineno))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                is_autoescape = isinstance(key, ast.Constant) and key.value == "autoescape"
                if is_autoescape and not _is_true(value):
                    findings.append(("autoescape: False", node.lineno))
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in UNSAFE_CALLS:
                    findings.append((alias.name, node.lineno))
        elif isinstance(node, ast.FunctionDef) and node.name == "__html__":
            findings.append(("__html__", node.lineno))
        elif isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in UNSAFE_CALLS and not isinstance(getattr(node, "ctx", None), ast.Store):
                findings.append((f"{name} (referenced)", node.lineno))
    return findings


def _is_true(node):
    return isinstance(node, ast.Constant) and node.value is True


def text_findings(text, patterns):
    found = []
    for what, pattern in patterns.items():
        for match in pattern.finditer(text):
            found.append((what, text.count("\n", 0, match.start()) + 1))
    return found


def sources():
    """(path, kind) of the project's templates, Python and JavaScript."""
    return [
        *((p, "template") for p in (PROJECT_ROOT / "templates").rglob("*") if p.is_file()),
        *(
            (p, "template")
            for p in (PROJECT_ROOT / "mentoring").rglob("templates/**/*")
            if p.is_file()
        ),
        *(
            (p, "template")
            for p in (PROJECT_ROOT / "accounts").rglob("templates/**/*")
            if p.is_file()
        ),
        *((p, "python") for p in (PROJECT_ROOT / "mentoring").rglob("*.py")),
        *((p, "python") for p in (PROJECT_ROOT / "accounts").rglob("*.py")),
        *((p, "python") for p in (PROJECT_ROOT / "sos").rglob("*.py")),
        *((p, "js") for p in (PROJECT_ROOT / "static" / "js").rglob("*.js")),
    ]


def scan():
    """Every finding in the project's templates, Python and JavaScript: {(path, what): lines}."""
    findings = {}
    for path, kind in sources():
        relative = path.relative_to(PROJECT_ROOT).as_posix()
        if "/migrations/" in relative or "__pycache__" in relative:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if kind == "python":
            found = python_findings(path, text)
            # Names referenced as well as called are reported once per line.
            found = sorted({(what.removesuffix(" (referenced)"), line) for what, line in found})
        elif kind == "js":
            found = text_findings(text, JS_PATTERNS)
        else:
            found = text_findings(text, TEMPLATE_PATTERNS)
        for what, line in found:
            findings.setdefault((relative, what), []).append(line)
    return findings


def test_no_unreviewed_escaping_bypass():
    """
    Nothing switches HTML escaping (or CSRF) off except the reviewed uses in ALLOWED.
    Imports of mark_safe and friends count as uses: an import is there to be used.
    """
    scanned = Counter(kind for _path, kind in sources())
    assert scanned["template"] >= 10 and scanned["python"] >= 10 and scanned["js"] >= 1, scanned
    findings = scan()
    unreviewed = {
        f"{path}:{','.join(map(str, lines))}: {what}"
        for (path, what), lines in findings.items()
        if (path, what) not in ALLOWED
    }
    assert not unreviewed, (
        "Escaping or CSRF protection is switched off here. Render user data with {{ }} "
        "(escaped), or use format_html with a literal format string; if a use is truly "
        "harmless add it to ALLOWED with the reason: " + "; ".join(sorted(unreviewed))
    )


def test_every_allowed_use_is_still_there():
    """An allow-list entry whose use has gone must go too, so it cannot cover a new one."""
    stale = set(ALLOWED) - set(scan())
    assert not stale, stale


@pytest.mark.parametrize(
    ("kind", "source", "expected"),
    [
        ("template", "<p>{{ client.notes|safe }}</p>", "|safe"),
        ("template", "<p>{{ names|safeseq|join:', ' }}</p>", "|safeseq"),
        ("template", "{% autoescape off %}{{ x }}{% endautoescape %}", "autoescape off"),
        ("template", "{% filter safe %}{{ x }}{% endfilter %}", "filter safe"),
        ("python", "from django.utils.safestring import mark_safe\nmark_safe(x)", "mark_safe"),
        ("python", "format_html(f'<b>{name}</b>')", "format_html with a built format string"),
        ("python", "format_html('<b>%s</b>' % name)", "format_html with a built format string"),
        ("python", "format_html('<b>{}</b>'.format(n))", "format_html with a built format string"),
        ("python", "format_html(template, name)", "format_html with a built format string"),
        ("python", "format_html('<br>')", "format_html without arguments"),
        ("python", "Engine(autoescape=False)", "autoescape=False"),
        ("python", "OPTIONS = {'autoescape': False}", "autoescape: False"),
        ("python", "@csrf_exempt\ndef view(request): pass", "csrf_exempt"),
        ("python", "@register.filter(is_safe=True)\ndef f(v): return v", "filter is_safe=True"),
        ("js", "el.innerHTML = data.name;", "innerHTML"),
        ("js", "el.insertAdjacentHTML('beforeend', row)", "insertAdjacentHTML"),
    ],
)
def test_the_scan_catches_each_kind_of_bypass(kind, source, expected):
    """The check is not vacuous: each bypass it looks for is caught in a sample."""
    if kind == "python":
        found = {what.removesuffix(" (referenced)") for what, _ in python_findings("x", source)}
    else:
        found = {
            what
            for what, _ in text_findings(source, JS_PATTERNS if kind == "js" else TEMPLATE_PATTERNS)
        }
    assert expected in found


@pytest.mark.parametrize(
    "source",
    [
        "format_html('<a href=\"{}\">{}</a>', url, name)",
        "format_html_join('\\n', '<li>{}</li>', ((n,) for n in names))",
        "escape(x)",
        "Engine(autoescape=True)",
    ],
)
def test_the_scan_leaves_safe_code_alone(source):
    assert python_findings("x", source) == []


def test_password_reset_email_is_plain_text(client, coordinator_a):
    """
    The password-reset e-mail is plain text with escaping left on: its username (Django's
    validator allows letters, digits and @.+-_), the pk, token and validated host come out
    unchanged, and anything else would be escaped rather than read as HTML.
    """
    view = resolve(reverse("password_reset")).func.view_class
    assert view is auth_views.PasswordResetView
    initkwargs = resolve(reverse("password_reset")).func.view_initkwargs
    assert initkwargs.get("html_email_template_name", view.html_email_template_name) is None
    coordinator_a.email = "coord@example.org"
    coordinator_a.save()
    response = client.post(reverse("password_reset"), {"email": "coord@example.org"})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.alternatives == []
    assert message.content_subtype == "plain"
    assert coordinator_a.username in message.body
    assert "{%" not in message.body and "&amp;" not in message.body
    link = re.search(r"https?://testserver(/accounts/password/reset/\S+/)", message.body)
    assert link and resolve(link[1]).url_name == "password_reset_confirm"
