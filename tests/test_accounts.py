"""Login, tokens (expiry, revocation, last use), throttling, user administration."""

from __future__ import annotations

import httpx

from catalogage.accounts.passwords import verify_password
from tests.factories import PASSWORD, World, add_token


def _login(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/auth/token", json={"email": email, "password": password})


def test_login_issues_a_working_token_stored_hashed(client: httpx.Client, world: World, db) -> None:
    response = _login(client, "EDITOR.A@example.gouv.fr")  # emails ignore case
    assert response.status_code == 201
    token = response.json()["token"]
    assert token.startswith("ctg_")
    me = client.get("/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["email"] == world.email("editor_a")
    assert me["memberships"] == [{"organization_siret": world.org_a, "role": "editor"}]
    stored = db.execute("SELECT token_hash, prefix FROM api_token WHERE name = 'login'")[0]
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    assert token.startswith(stored.prefix)


def test_passwords_are_hashed_with_argon2id(db, world: World) -> None:
    stored = db.scalar('SELECT password_hash FROM "user" WHERE email = :e', e=world.email("admin"))
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "!")


def test_wrong_password_and_unknown_email_look_the_same(client: httpx.Client, world: World) -> None:
    wrong = _login(client, world.email("admin"), "wrong password")
    unknown = _login(client, "nobody@example.gouv.fr")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_repeated_failures_are_throttled(client: httpx.Client, world: World, settings) -> None:
    email = world.email("editor_b")
    for _ in range(settings.login_max_failures):
        assert _login(client, email, "wrong").status_code == 401
    throttled = _login(client, email)  # even the right password waits
    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["Retry-After"]) <= settings.login_failure_window_seconds + 1
    assert throttled.json()["error"] == "too_many_requests"


def test_inactive_user_cannot_log_in_or_use_tokens(client: httpx.Client, world: World, db) -> None:
    db.execute('UPDATE "user" SET is_active = false WHERE id = :id', id=world.users["editor_a"])
    assert _login(client, world.email("editor_a")).status_code == 401
    assert client.get("/me", headers=world.headers("editor_a")).status_code == 401


def test_expired_and_revoked_tokens_are_refused(client: httpx.Client, world: World, db) -> None:
    expired = add_token(db, world.users["editor_a"], expires_in_seconds=-1)
    response = client.get("/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"

    headers = world.headers("editor_a")
    issued = client.post(
        "/me/tokens", json={"name": "script", "expires_in_days": 7}, headers=headers
    )
    assert issued.status_code == 201
    token = issued.json()
    new_headers = {"Authorization": f"Bearer {token['token']}"}
    assert client.get("/me", headers=new_headers).status_code == 200
    listed = client.get("/me/tokens", headers=headers).json()
    assert "token" not in listed[0]
    used = next(t for t in listed if t["id"] == token["id"])
    assert used["last_used_at"] is not None
    assert client.delete(f"/me/tokens/{token['id']}", headers=headers).status_code == 204
    assert client.get("/me", headers=new_headers).status_code == 401
    assert client.delete(f"/me/tokens/{token['id']}", headers=headers).status_code == 404


def test_users_cannot_revoke_each_others_tokens(client: httpx.Client, world: World) -> None:
    token = client.post("/me/tokens", json={"name": "x"}, headers=world.headers("editor_a"))
    other = client.delete(f"/me/tokens/{token.json()['id']}", headers=world.headers("editor_b"))
    assert other.status_code == 404


def test_malformed_authorization_header(client: httpx.Client) -> None:
    response = client.get("/datasets/", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401
    assert client.get("/me", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_admin_manages_users(client: httpx.Client, world: World) -> None:
    admin = world.headers("admin")
    body = {"email": "Nouvel.Agent@Example.gouv.fr", "name": "Nouvel agent", "password": PASSWORD}
    created = client.post("/users/", json=body, headers=admin)
    assert created.status_code == 201
    assert created.json()["email"] == "nouvel.agent@example.gouv.fr"
    duplicate = client.post(
        "/users/", json={**body, "email": "nouvel.agent@example.gouv.fr"}, headers=admin
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["fields"][0]["field"] == "email"
    short = client.post(
        "/users/", json={**body, "email": "x@example.org", "password": "court"}, headers=admin
    )
    assert short.status_code == 422 and short.json()["fields"][0]["field"] == "password"
    user_id = created.json()["id"]
    patched = client.patch(f"/users/{user_id}", json={"is_admin": True}, headers=admin)
    assert patched.json()["is_admin"] is True
    assert _login(client, "nouvel.agent@example.gouv.fr").status_code == 201


def test_members_are_managed_by_managers(client: httpx.Client, world: World) -> None:
    manager = world.headers("manager_a")
    url = f"/organizations/{world.org_a}/members"
    added = client.post(
        url, json={"email": world.email("editor_b"), "role": "editor"}, headers=manager
    )
    assert added.status_code == 200
    # editor_b now writes ORG_A's datasets too.
    me = client.get("/me", headers=world.headers("editor_b")).json()
    assert {m["organization_siret"] for m in me["memberships"]} == {world.org_a, world.org_b}
    unknown = client.post(
        url, json={"email": "ghost@example.org", "role": "editor"}, headers=manager
    )
    assert unknown.status_code == 404 and unknown.json()["fields"][0]["field"] == "email"
    emails = {m["email"] for m in client.get(url, headers=manager).json()}
    assert world.email("editor_b") in emails
