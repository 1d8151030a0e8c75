"""Sign-in throttling over HTTP on a real Redis: attackers are slowed, owners are not locked out (issue 13)."""

import pytest
from redis import Redis
from werkzeug.security import generate_password_hash

from tests.web.test_auth import PASSWORD, csrf_from
from workspace.extensions import db
from workspace.models import Agent
from workspace.web.signin import DEVICE_COOKIE

OWNER_HOME, ATTACKER = "203.0.113.5", "198.51.100.7"
# The first wait, long enough that no wait ends by itself while a test runs (tests end waits by hand).
FIRST_WAIT = 100


@pytest.fixture(autouse=True)
def long_waits(app):
    """Waits of 100 s, 200 s, … up to a day, so only let_waits_pass ends them."""
    app.config.update(LOGIN_FIRST_DELAY_SECONDS=FIRST_WAIT, LOGIN_MAX_DELAY_SECONDS=86400,
                      LOGIN_MEMORY_SECONDS=86400)


@pytest.fixture
def ana(app):
    """Ana, an agent who signs in with PASSWORD."""
    with app.app_context():
        db.session.add(Agent(email="ana@example.com", name="Ana", password_hash=generate_password_hash(PASSWORD)))
        db.session.commit()


def sign_in(client, address, email="ana@example.com", password=PASSWORD):
    """POST the sign-in form from `address` (the client keeps its cookies, like a browser)."""
    environ = {"REMOTE_ADDR": address}
    token = csrf_from(client.get("/login", environ_base=environ))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base=environ)


def let_waits_pass(app) -> None:
    """Make every current wait over, as if its time had passed (the failures stay counted)."""
    redis = Redis.from_url(app.config["REDIS_URL"])
    for key in redis.scan_iter("login:*"):
        redis.hset(key, "until", 0)
    redis.close()


def test_an_attackers_failures_elsewhere_do_not_stop_the_owner(app, ana):
    """Twelve wrong passwords for Ana from another address; Ana, from her own address, signs straight in."""
    attacker = app.test_client()
    answers = []
    for _ in range(12):
        answers.append(sign_in(attacker, ATTACKER, password="guess").status_code)
        let_waits_pass(app)
    assert answers == [401] * 12
    assert sign_in(attacker, ATTACKER, password="guess").status_code == 401
    assert sign_in(attacker, ATTACKER, password="guess").status_code == 429  # the attacker is slowed
    owner = sign_in(app.test_client(), OWNER_HOME)
    assert owner.status_code == 302 and owner.headers["Location"] == "/"


def test_a_wait_answers_429_with_retry_after_and_says_so_on_the_page(app, ana):
    """Past the free failures the next attempt, even with the right password, waits: 429, Retry-After, a message."""
    client = app.test_client()
    for _ in range(app.config["LOGIN_FREE_FAILURES_PER_PAIR"] + 1):
        assert sign_in(client, ATTACKER, password="guess").status_code == 401
    response = sign_in(client, ATTACKER)
    assert response.status_code == 429 and FIRST_WAIT - 10 <= int(response.headers["Retry-After"]) <= FIRST_WAIT
    assert "too many failed attempts; try again in " in response.get_data(as_text=True)
    assert client.get("/", environ_base={"REMOTE_ADDR": ATTACKER}).status_code == 302  # not signed in
    let_waits_pass(app)
    assert sign_in(client, ATTACKER).status_code == 302  # a wait, never a lockout


def test_waits_grow_with_each_failure(app, ana):
    """Each failure past the free ones doubles the wait before the next attempt."""
    client, waits = app.test_client(), []
    for _ in range(app.config["LOGIN_FREE_FAILURES_PER_PAIR"]):
        sign_in(client, ATTACKER, password="guess")
    for _ in range(5):
        assert sign_in(client, ATTACKER, password="guess").status_code == 401
        waits.append(int(sign_in(client, ATTACKER, password="guess").headers["Retry-After"]))
        let_waits_pass(app)
    assert [round(wait / FIRST_WAIT) for wait in waits] == [1, 2, 4, 8, 16]


def test_credential_stuffing_from_one_address_is_slowed_but_not_others(app, ana):
    """Thirty emails tried once each from one address: past the address's free failures it must wait;
    an agent elsewhere is untouched."""
    stuffer = app.test_client()
    answers = [sign_in(stuffer, ATTACKER, email=f"user{n}@example.com", password="guess").status_code
               for n in range(30)]
    free = app.config["LOGIN_FREE_FAILURES_PER_ADDRESS"]
    assert answers[:free + 1] == [401] * (free + 1)
    assert set(answers[free + 1:]) == {429}
    refused = sign_in(stuffer, ATTACKER, email="someone@example.com", password="guess")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert sign_in(app.test_client(), OWNER_HOME).status_code == 302


def test_the_owners_known_browser_signs_in_while_a_distributed_attack_slows_everyone_else(app, ana):
    """An attacker on many addresses trips the per-email limit: new browsers for Ana now wait, but the
    browser Ana signed in with before (its known-device cookie) signs in at once."""
    owner = app.test_client()
    assert sign_in(owner, OWNER_HOME).status_code == 302
    owner.post("/logout", data={"csrf_token": csrf_from(owner.get("/", environ_base={"REMOTE_ADDR": OWNER_HOME}))},
               environ_base={"REMOTE_ADDR": OWNER_HOME})
    for n in range(app.config["LOGIN_FREE_FAILURES_PER_EMAIL"] + 1):
        assert sign_in(app.test_client(), f"198.51.100.{n + 10}", password="guess").status_code == 401
    assert sign_in(app.test_client(), "192.0.2.77").status_code == 429  # a new browser, a new address
    assert sign_in(app.test_client(), OWNER_HOME).status_code == 429  # Ana's address, but not her browser
    assert sign_in(owner, OWNER_HOME).status_code == 302


def test_the_known_device_cookie_is_httponly_and_only_genuine_ones_count(app, ana):
    """The cookie is HttpOnly and SameSite; a forged one, or one issued for another email, exempts nothing."""
    owner = app.test_client()
    response = sign_in(owner, OWNER_HOME)
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith(DEVICE_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    for n in range(app.config["LOGIN_FREE_FAILURES_PER_EMAIL"] + 1):
        sign_in(app.test_client(), f"198.51.100.{n + 10}", password="guess")
    forger = app.test_client()
    forger.set_cookie(DEVICE_COOKIE, owner.get_cookie(DEVICE_COOKIE).value[:-2] + "xx")
    assert sign_in(forger, "192.0.2.78").status_code == 429


def test_the_owners_own_typos_on_a_known_browser_still_slow_that_browser(app, ana):
    """A known browser is not exempt from its own failures: past the free ones it waits too."""
    owner = app.test_client()
    sign_in(owner, OWNER_HOME)
    for _ in range(app.config["LOGIN_FREE_FAILURES_PER_PAIR"] + 1):
        assert sign_in(owner, OWNER_HOME, password="typo").status_code == 401
    assert sign_in(owner, OWNER_HOME).status_code == 429
