from __future__ import annotations

from aiohttp.test_utils import TestClient

from .conftest import AGENT_EMAIL, Customer, MakeClient
from .fake_rasa import FakeRasa

AGENT_ENDPOINTS = [
    ("GET", "/api/agent/queue"),
    ("GET", "/api/agent/me"),
    ("GET", "/api/agent/conversations/x"),
    ("POST", "/api/agent/conversations/x/claim"),
    ("POST", "/api/agent/conversations/x/messages"),
    ("POST", "/api/agent/conversations/x/resolve"),
    ("POST", "/api/agent/logout"),
]


async def test_every_agent_endpoint_refuses_without_a_valid_token(client: TestClient) -> None:
    for method, path in AGENT_ENDPOINTS:
        for headers in ({}, {"Authorization": "Bearer nope"}):
            response = await client.request(method, path, headers=headers)
            assert response.status == 401, (method, path, headers)


async def test_a_wrong_password_is_refused(client: TestClient) -> None:
    for email, password in ((AGENT_EMAIL, "wrong"), ("nobody@example.com", "wrong")):
        response = await client.post("/api/agent/login", json={"email": email, "password": password})
        assert response.status == 401
        assert (await response.json())["error"]["message"] == "wrong e-mail or password"


async def test_login_sets_an_http_only_strict_cookie(client: TestClient) -> None:
    from .conftest import AGENT_PASSWORD

    response = await client.post(
        "/api/agent/login", json={"email": AGENT_EMAIL.upper(), "password": AGENT_PASSWORD}
    )
    cookie = response.headers["Set-Cookie"]
    assert response.status == 200
    assert "baton_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    me = await client.get("/api/agent/me")
    assert (await me.json())["email"] == AGENT_EMAIL
    # The cookie alone does not authorise a cross-site state change.
    forged = await client.post(
        "/api/agent/conversations/x/claim", headers={"Origin": "https://evil.example"}
    )
    assert forged.status == 403
    # Nor does it open the console's socket, from any site (tests/gateway/test_socket_auth.py).


async def test_logout_revokes_the_session(client: TestClient, agent_headers: dict[str, str]) -> None:
    assert (await client.post("/api/agent/logout", headers=agent_headers)).status == 200
    assert (await client.get("/api/agent/queue", headers=agent_headers)).status == 401


async def test_the_whole_handoff_path(
    client: TestClient, customer: Customer, agent_headers: dict[str, str], rasa: FakeRasa
) -> None:
    console = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    await customer.say("how do I check in online")
    await customer.say("can I talk to a real person")

    queue = await (await client.get("/api/agent/queue", headers=agent_headers)).json()
    [entry] = queue["conversations"]
    assert entry["id"] == customer.id
    assert entry["status"] == "waiting"
    assert entry["handoff"]["reason"] == "requested"
    assert entry["handoff"]["context"] == {"summary": "The customer asked for a person."}

    detail = await (
        await client.get(f"/api/agent/conversations/{customer.id}", headers=agent_headers)
    ).json()
    assert [m["sender"] for m in detail["messages"]] == ["customer", "bot", "customer", "bot"]
    assert detail["messages"][0]["nlu"]["intent"] == "ask_check_in"
    assert detail["messages"][0]["nlu"]["confidence"] == 0.91
    assert detail["messages"][2]["nlu"]["intent"] == "human_handoff"
    assert "nlu" not in detail["messages"][1]

    base = f"/api/agent/conversations/{customer.id}"
    early = await client.post(f"{base}/messages", json={"text": "hi"}, headers=agent_headers)
    assert early.status == 409
    claimed = await client.post(f"{base}/claim", headers=agent_headers)
    assert claimed.status == 200
    assert (await claimed.json())["status"] == "agent"
    sent = await client.post(
        f"{base}/messages", json={"text": "Hi, I'm Maya. I'm on it."}, headers=agent_headers
    )
    assert sent.status == 201
    reply = await customer.say("thank you")
    assert [m["sender"] for m in reply["messages"]] == ["customer"]

    resolved = await client.post(f"{base}/resolve", json={"outcome": "answered"}, headers=agent_headers)
    assert await resolved.json() == {"id": customer.id, "status": "bot"}
    assert rasa.state_calls == [{"sender": customer.id, "mode": "bot"}]

    back = await customer.say("and what about baggage")
    assert back["status"] == "bot"
    assert [m["sender"] for m in back["messages"]] == ["customer", "bot"]
    transcript = [(m["sender"], m["text"]) for m in await customer.messages()]
    assert transcript[4:] == [
        ("system", "Maya from our team has joined the chat."),
        ("agent", "Hi, I'm Maya. I'm on it."),
        ("customer", "thank you"),
        (
            "system",
            "Maya has marked this conversation as resolved. "
            "The Baton assistant is back: ask me anything, any time.",
        ),
        ("customer", "and what about baggage"),
        ("bot", "Answer to: and what about baggage"),
    ]
    modes = [call["mode"] for call in rasa.calls]
    assert modes == ["bot", "bot", "human", "bot"]
    queue = await (await client.get("/api/agent/queue", headers=agent_headers)).json()
    assert queue == {"conversations": []}
    await console.close()


async def test_a_claimed_conversation_cannot_be_claimed_again(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    from handoff.access.agents import ensure_agent
    from handoff import keys

    await customer.say("can I talk to a real person")
    await ensure_agent(client.app[keys.SETTINGS].database_url, "sam@example.com", "pw-sam-123", "Sam")
    sam = await client.post("/api/agent/login", json={"email": "sam@example.com", "password": "pw-sam-123"})
    sam_headers = {"Authorization": f"Bearer {(await sam.json())['token']}"}
    base = f"/api/agent/conversations/{customer.id}"

    assert (await client.post(f"{base}/claim", headers=agent_headers)).status == 200
    assert (await client.post(f"{base}/claim", headers=agent_headers)).status == 200
    taken = await client.post(f"{base}/claim", headers=sam_headers)
    assert taken.status == 409
    assert (await client.post(f"{base}/resolve", headers=sam_headers)).status == 409


async def test_resolving_a_conversation_with_the_bot_is_a_conflict(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    response = await client.post(
        f"/api/agent/conversations/{customer.id}/resolve", headers=agent_headers
    )
    assert response.status == 409


async def test_sessions_expire(make_client: MakeClient) -> None:
    import asyncio

    from .conftest import AGENT_PASSWORD

    client = await make_client(session_ttl_seconds=1)
    login = await client.post("/api/agent/login", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD})
    headers = {"Authorization": f"Bearer {(await login.json())['token']}"}
    assert (await client.get("/api/agent/me", headers=headers)).status == 200
    await asyncio.sleep(1.2)
    assert (await client.get("/api/agent/me", headers=headers)).status == 401


async def test_cookies_are_secure_behind_tls(make_client: MakeClient) -> None:
    from .conftest import AGENT_PASSWORD

    client = await make_client(secure_cookies=True)
    login = await client.post("/api/agent/login", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD})
    cookie = login.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
