"""The OpenAPI 3.1 description of the gateway's HTTP API, served at /api/openapi.json.

The components are generated from handoff/shapes (the Structs that also encode and parse
the bodies); the paths, written here, only reference them.
tests/gateway/test_openapi.py validates one whole conversation's responses against it as
JSON Schema; tests/shapes_check.py decodes every API answer any test gets by the shape
that these paths name for its path, method and status.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec

from handoff.shapes import events, http, insights, privacy

_REF = "#/components/schemas/{name}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(name=name)}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ok(name: str, description: str = "OK") -> dict[str, Any]:
    return _json(_ref(name), description)


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Malformed input",
        401: "Not authenticated",
        403: "Refused",
        404: "Not found",
        409: "Not allowed in the conversation's current state",
        410: "Its transcript was deleted (retention or erasure)",
        413: "Too large",
        429: "Too many requests: wait Retry-After seconds",
        503: "Storage unavailable for a moment: retry after Retry-After seconds",
    }
    return {str(code): _ok("Error", text[code]) for code in codes}


def _body(name: str, *, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": _ref(name)}}}


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_INT_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_BATCH = {"name": "batch", "in": "path", "required": True, "schema": {"type": "string"}}
_CUSTOMER = [{"conversationToken": []}]
_AGENT = [{"agentToken": []}, {"agentCookie": []}]

# Every Struct of the shapes, and the socket unions (named here; a union has no class).
_STRUCTS = [
    value
    for module in (http, events, insights, privacy)
    for value in vars(module).values()
    if isinstance(value, type)
    and issubclass(value, msgspec.Struct)
    and value.__module__ == module.__name__
]
_UNIONS = {
    "WidgetEvent": events.WidgetEvent,
    "ConsoleEvent": events.ConsoleEvent,
    "WidgetFrame": events.WidgetFrame,
    "ConsoleFrame": events.ConsoleFrame,
}


@cache
def _components() -> tuple[dict[str, Any], dict[str, Any]]:
    """(the schemas by name, the socket unions' schemas by name)."""
    refs, schemas = msgspec.json.schema_components(
        [*_STRUCTS, *_UNIONS.values()], ref_template=_REF
    )
    return schemas, dict(zip(_UNIONS, refs[len(_STRUCTS):]))


PATHS: dict[str, Any] = {
    "/api/conversations": {
        "post": {
            "summary": "Open a conversation (widget)",
            "description": "Without a body, or without identity: anonymous. With a signed "
            "identity (the site's, docs/contract.md): the agent sees the customer as "
            "verified. A missing or wrong identity_signature, or an identity while "
            "BATON_IDENTITY_SECRET is not set: 401, no conversation.",
            "requestBody": _body("ConversationIn", required=False),
            "responses": {"201": _ok("Created", "Created"), **_errors(400, 401, 403, 413)},
        }
    },
    "/api/conversations/{id}": {
        "get": {
            "summary": "A conversation's status",
            "security": _CUSTOMER,
            "parameters": [_ID],
            "responses": {"200": _ok("ConversationOut"), **_errors(401, 404)},
        }
    },
    "/api/conversations/{id}/messages": {
        "get": {
            "summary": "Messages after a seq",
            "security": _CUSTOMER,
            "parameters": [
                _ID,
                {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
            ],
            "responses": {"200": _ok("Messages"), **_errors(400, 401, 404)},
        },
        "post": {
            "summary": "Send a customer message; answers with the turn it started",
            "security": _CUSTOMER,
            "parameters": [_ID],
            "requestBody": _body("CustomerMessageIn"),
            "responses": {"200": _ok("Turn"), **_errors(400, 401, 404, 413)},
        },
    },
    "/api/conversations/{id}/contact": {
        "post": {
            "summary": "While waiting: leave contact details and a message for a follow-up",
            "security": _CUSTOMER,
            "parameters": [_ID],
            "requestBody": _body("ContactIn"),
            "responses": {"200": _ok("Turn"), **_errors(400, 401, 404, 409, 413)},
        }
    },
    "/api/conversations/{id}/rating": {
        "post": {
            "summary": "After an agent resolved: the customer's satisfaction (1-5)",
            "security": _CUSTOMER,
            "parameters": [_ID],
            "requestBody": _body("RatingIn"),
            "responses": {"200": _ok("RatingOut"), **_errors(400, 401, 404, 409, 413)},
        }
    },
    "/api/agent/login": {
        "post": {
            "summary": "Log an agent in (also sets the console's session cookie)",
            "requestBody": _body("LoginIn"),
            "responses": {"200": _ok("LoginOut"), **_errors(400, 401, 413)},
        }
    },
    "/api/agent/logout": {
        "post": {
            "summary": "End the agent's session",
            "security": _AGENT,
            "responses": {"200": _ok("Ok"), **_errors(401)},
        }
    },
    "/api/agent/me": {
        "get": {
            "summary": "The logged-in agent",
            "security": _AGENT,
            "responses": {"200": _ok("AgentAccount"), **_errors(401)},
        }
    },
    "/api/agent/queue": {
        "get": {
            "summary": "Handed-off conversations: waiting first, oldest first",
            "security": _AGENT,
            "responses": {"200": _ok("Queue"), **_errors(401)},
        }
    },
    "/api/agent/conversations": {
        "get": {
            "summary": "History: every conversation, newest first (by when it started), "
            "filtered and searched, a page at a time",
            "description": "Filters combine (and). reason matches any of the "
            "conversation's handoffs; agent: who held one of them (claimed, was transferred "
            "it, resolved it, or passed it on); from/to keep the conversations going on in "
            "the period (started before its end, last active at or after its start); q "
            "matches message text, the handoffs' booking reference and customer name, the "
            "contact form's e-mail, phone and name, and the start of the id, ignoring case. "
            "Open one with GET /api/agent/conversations/{id}. Any bad parameter: 400 naming it.",
            "security": _AGENT,
            "parameters": [
                {"name": "status", "in": "query", "schema": {
                    "type": "string", "enum": ["bot", "waiting", "agent", "resolved"]}},
                {"name": "reason", "in": "query", "schema": {
                    "type": "string", "enum": ["requested", "frustration", "disruption",
                                               "bot_failure", "bot_unavailable"]}},
                {"name": "agent", "in": "query", "description": "an agent's id",
                 "schema": {"type": "integer", "minimum": 1}},
                {"name": "from", "in": "query", "description": "a date (its start, UTC) or a "
                 "date-time with offset", "schema": {"type": "string"}},
                {"name": "to", "in": "query", "description": "a date (through its end, UTC) "
                 "or a date-time with offset (exclusive)", "schema": {"type": "string"}},
                {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}},
                {"name": "limit", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}},
                {"name": "before", "in": "query", "description": "the previous page's next",
                 "schema": {"type": "string"}},
            ],
            "responses": {"200": _ok("HistoryPage"), **_errors(400, 401)},
        }
    },
    "/api/agent/conversations/{id}": {
        "get": {
            "summary": "A conversation with its handoff and whole transcript",
            "security": _AGENT,
            "parameters": [_ID],
            "responses": {"200": _ok("ConversationDetail"), **_errors(401, 404, 410)},
        }
    },
    "/api/agent/conversations/{id}/claim": {
        "post": {
            "summary": "Take a waiting conversation",
            "security": _AGENT,
            "parameters": [_ID],
            "responses": {"200": _ok("QueueEntry"), **_errors(401, 403, 404, 409)},
        }
    },
    "/api/agent/conversations/{id}/messages": {
        "post": {
            "summary": "Reply to the customer",
            "description": "The console sends replies on its socket while it is live (a "
            "`message` frame with `conversation_id`, answered by an `ack`); this is the same "
            "reply over HTTP. A retry with the same `client_message_id` stores nothing new "
            "and answers 200 with the reply stored first.",
            "security": _AGENT,
            "parameters": [_ID],
            "requestBody": _body("AgentMessageIn"),
            "responses": {
                "201": _ok("MessageOut", "Sent"),
                "200": _ok("MessageOut", "Sent before under this client_message_id (a retry)"),
                **_errors(400, 401, 403, 404, 409, 413),
            },
        }
    },
    "/api/agent/conversations/{id}/resolve": {
        "post": {
            "summary": "Resolve: the conversation goes back to the bot",
            "security": _AGENT,
            "parameters": [_ID],
            "requestBody": _body("ResolveIn", required=False),
            "responses": {"200": _ok("Resolved"), **_errors(400, 401, 403, 404, 409, 413)},
        }
    },
    "/api/agent/agents": {
        "get": {
            "summary": "Every agent, with role and whether their console is connected",
            "security": _AGENT,
            "responses": {"200": _ok("Agents"), **_errors(401)},
        }
    },
    "/api/agent/conversations/{id}/notes": {
        "get": {
            "summary": "Private notes on a conversation (never shown to the customer)",
            "security": _AGENT,
            "parameters": [_ID],
            "responses": {"200": _ok("Notes"), **_errors(401, 404)},
        },
        "post": {
            "summary": "Add a private note; consoles get a note event",
            "security": _AGENT,
            "parameters": [_ID],
            "requestBody": _body("NoteIn"),
            "responses": {
                "201": _ok("NoteOut", "Added"),
                **_errors(400, 401, 403, 404, 413),
            },
        },
    },
    "/api/agent/canned": {
        "get": {
            "summary": "Canned responses, by shortcut",
            "security": _AGENT,
            "responses": {"200": _ok("CannedList"), **_errors(401)},
        },
        "post": {
            "summary": "Add a canned response (supervisors; shortcut, title and text required)",
            "security": _AGENT,
            "requestBody": _body("CannedIn"),
            "responses": {
                "201": _ok("CannedOut", "Added"),
                **_errors(400, 401, 403, 409, 413),
            },
        },
    },
    "/api/agent/canned/{id}": {
        "patch": {
            "summary": "Change a canned response's shortcut, title or text (supervisors)",
            "security": _AGENT,
            "parameters": [_INT_ID],
            "requestBody": _body("CannedIn"),
            "responses": {"200": _ok("CannedOut"), **_errors(400, 401, 403, 404, 409, 413)},
        },
        "delete": {
            "summary": "Remove a canned response (supervisors; the audit log keeps it)",
            "security": _AGENT,
            "parameters": [_INT_ID],
            "responses": {"200": _ok("Deleted"), **_errors(401, 403, 404)},
        },
    },
    "/api/agent/resolutions": {
        "get": {
            "summary": "The configured empowered actions, with the caller's authority",
            "security": _AGENT,
            "responses": {"200": _ok("Catalogue"), **_errors(401)},
        }
    },
    "/api/agent/conversations/{id}/resolutions": {
        "post": {
            "summary": "Take an empowered action (the agent holding the conversation). Within "
            "the caller's limit it is carried out at once (status done, or failed) and the "
            "customer is told what will happen; above it, it waits for a supervisor "
            "(status pending_approval) and the customer is told so",
            "security": _AGENT,
            "parameters": [_ID],
            "requestBody": _body("ResolutionIn"),
            "responses": {
                "201": _ok("ResolutionOut", "Recorded"),
                **_errors(400, 401, 403, 404, 409, 413),
            },
        }
    },
    "/api/agent/conversations/{id}/transfer": {
        "post": {
            "summary": "Pass the conversation to another online agent, or back to the queue "
            "(keeping its priority and place)",
            "security": _AGENT,
            "parameters": [_ID],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"oneOf": [_ref("TransferToAgent"), _ref("TransferToQueue")]}
                    }
                },
            },
            "responses": {"200": _ok("Transferred"), **_errors(400, 401, 403, 404, 409, 413)},
        }
    },
    "/api/agent/approvals": {
        "get": {
            "summary": "Empowered actions waiting for a supervisor, oldest first (supervisors)",
            "security": _AGENT,
            "responses": {"200": _ok("Approvals"), **_errors(401, 403)},
        }
    },
    "/api/agent/approvals/{id}/approve": {
        "post": {
            "summary": "Approve: it is carried out and the customer told (supervisors, within "
            "their own limit, not their own request)",
            "security": _AGENT,
            "parameters": [_INT_ID],
            "requestBody": _body("DecisionIn", required=False),
            "responses": {
                "200": _ok("ResolutionOut"),
                **_errors(400, 401, 403, 404, 409, 413),
            },
        }
    },
    "/api/agent/approvals/{id}/reject": {
        "post": {
            "summary": "Reject: the requesting agent gets a resolution event; the customer "
            "is promised nothing (supervisors)",
            "security": _AGENT,
            "parameters": [_INT_ID],
            "requestBody": _body("DecisionIn", required=False),
            "responses": {
                "200": _ok("ResolutionOut"),
                **_errors(400, 401, 403, 404, 409, 413),
            },
        }
    },
    "/api/agent/approvals/batches/{batch}/approve": {
        "post": {
            "summary": "Approve a bulk action's pending requests together: their sum must "
            "be within the supervisor's limit at once and each conversation's cap; each is "
            "carried out and its customer told (supervisors, not their own request)",
            "security": _AGENT,
            "parameters": [_BATCH],
            "requestBody": _body("DecisionIn", required=False),
            "responses": {
                "200": _ok("BatchDecided"),
                **_errors(400, 401, 403, 404, 409, 413),
            },
        }
    },
    "/api/agent/approvals/batches/{batch}/reject": {
        "post": {
            "summary": "Reject a bulk action's pending requests together; each customer "
            "hears it was not approved (supervisors)",
            "security": _AGENT,
            "parameters": [_BATCH],
            "requestBody": _body("DecisionIn", required=False),
            "responses": {
                "200": _ok("BatchDecided"),
                **_errors(400, 401, 403, 404, 409, 413),
            },
        }
    },
    "/api/agent/audit": {
        "get": {
            "summary": "The audit log, oldest first: the latest entries, or one "
            "conversation's (supervisors)",
            "security": _AGENT,
            "parameters": [
                {"name": "conversation_id", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0, "maximum": 1000, "default": 200},
                },
            ],
            "responses": {"200": _ok("Audit"), **_errors(400, 401, 403)},
        }
    },
    "/api/agent/insights": {
        "get": {
            "summary": "What the conversations of a period teach: containment, handoffs by "
            "reason and disruption, waits, resolution, ratings, frustration, disrupted "
            "flights (supervisors). The period is whole UTC days: the last `days` up to "
            "today, or `from` to `to` inclusive.",
            "security": _AGENT,
            "parameters": [
                {
                    "name": "days",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 731, "default": 30},
                },
                {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
            ],
            "responses": {"200": _ok("Insights"), **_errors(400, 401, 403)},
        }
    },
    "/api/agent/insights/topics/{id}/decision": {
        "post": {
            "summary": "Decide what an unanswered topic is: assigned to an intent (its "
            "messages become training data, written to BATON_LEARNED_NLU, which `make "
            "train` includes), a new topic for the team, ignored, or reopened (supervisors; "
            "audited)",
            "security": _AGENT,
            "parameters": [_INT_ID],
            "requestBody": _body("TopicDecisionIn"),
            "responses": {"200": _ok("TopicDecided"), **_errors(400, 401, 403, 404, 413)},
        }
    },
    "/api/agent/insights/training-data": {
        "get": {
            "summary": "The assigned topics' messages as Rasa NLU training data (YAML, the "
            "file BATON_LEARNED_NLU holds; supervisors)",
            "security": _AGENT,
            "responses": {
                "200": {"description": "Rasa NLU YAML",
                        "content": {"application/yaml": {"schema": {"type": "string"}}}},
                **_errors(401, 403),
            },
        }
    },
    "/api/agent/privacy": {
        "get": {
            "summary": "The retention period (BATON_RETENTION_DAYS) and how many "
            "conversations were redacted (supervisors)",
            "security": _AGENT,
            "responses": {"200": _ok("RetentionPolicy"), **_errors(401, 403)},
        }
    },
    "/api/agent/privacy/conversations": {
        "get": {
            "summary": "The conversations that name a customer: the id or email their site "
            "signed, the email or phone they left or typed, or a booking reference "
            "(supervisors; at least one)",
            "security": _AGENT,
            "parameters": [
                {"name": name, "in": "query", "schema": {"type": "string", "maxLength": 320}}
                for name in ("email", "phone", "booking_reference", "customer_id")
            ],
            "responses": {"200": _ok("CustomerConversations"), **_errors(400, 401, 403)},
        }
    },
    "/api/agent/privacy/erasures": {
        "post": {
            "summary": "Erase conversations: their transcript, notes, contact details, "
            "rating comments and Rasa's copy are deleted, their counts kept for the insights "
            "(supervisors; audited). Refused whole (409) while one is with the team.",
            "security": _AGENT,
            "requestBody": _body("ErasureIn"),
            "responses": {"200": _ok("Erased"), **_errors(400, 401, 403, 404, 409, 413)},
        }
    },
    "/api/ops/disruptions": {
        "post": {
            "summary": "The operations feed: a flight cancelled, delayed, diverted or "
            "rescheduled, with the bookings it touches (the airline's systems)",
            "description": "Signed: X-Baton-Timestamp is Unix seconds, X-Baton-Signature "
            "is sha256= and the hex HMAC-SHA256, with BATON_OPS_SECRET, of the timestamp, "
            "a dot and the raw body. A missing or wrong signature, or a timestamp more than "
            "5 minutes old or ahead: 401, nothing stored. Idempotent on id: the first post "
            "answers 201, a later one with the same id replaces it (bookings included) and "
            "answers 200. Without BATON_OPS_SECRET the feed answers 503.",
            "security": [{"opsSignature": [], "opsTimestamp": []}],
            "requestBody": _body("DisruptionIn"),
            "responses": {
                "201": _ok("DisruptionRecorded", "Recorded"),
                "200": _ok("DisruptionRecorded", "Known already: replaced by this post"),
                **_errors(400, 401, 413),
            },
        }
    },
    "/api/agent/disruptions": {
        "get": {
            "summary": "The disruptions of flights from yesterday on (in BATON_TIMEZONE), "
            "the latest news first, each with how many bookings it touches, how many "
            "customers were told of it and how many of those wait (supervisors)",
            "security": _AGENT,
            "responses": {"200": _ok("ActiveDisruptions"), **_errors(401, 403)},
        }
    },
    "/api/agent/disruptions/{id}/resolutions": {
        "post": {
            "summary": "Take one empowered action for every customer told of this "
            "disruption whose conversation waits in the queue or is the caller's; the "
            "waiting ones are claimed. Each gets a resolution, audited, and its customer "
            "is told. Within the caller's authority (the amounts' sum within their limit "
            "at once, each conversation within its cap) each is carried out at once; above "
            "it, each goes pending as one batch that a supervisor approves whole, and its "
            "customer is told it is being approved (needs_approval says why). More than "
            "anyone may approve: 403, nothing changed. No such conversation: 409",
            "security": _AGENT,
            "parameters": [_ID],
            "requestBody": _body("ResolutionIn"),
            "responses": {
                "201": _ok("DisruptionResolutions", "Applied"),
                **_errors(400, 401, 403, 404, 409, 413),
            },
        }
    },
    "/healthz": {"get": {"summary": "The gateway is up", "responses": {"200": _ok("Health")}}},
    "/readyz": {
        "get": {
            "summary": "The gateway, Rasa and the action server all answer",
            "responses": {"200": _ok("Readiness"), "503": _ok("Readiness", "Not ready")},
        }
    },
}


def _refusals() -> dict[str, Any]:
    """A socket's upgrade refused, before any frame: a plain GET (400), a bad Origin (403),
    a token in the upgrade's Authorization that is wrong (401, 404), too many requests,
    storage unavailable."""
    return _errors(400, 401, 403, 404, 429, 503)


def _websockets() -> dict[str, Any]:
    """Not OpenAPI proper (it has no WebSockets): what each socket takes and answers, after
    AsyncAPI's publish/subscribe, from the same shapes (handoff/shapes/events.py)."""
    unions = _components()[1]
    return {
            "/api/conversations/{id}/ws": {
            "description": "The widget's socket. Query: after (the last seq seen). The first "
            "frame is `auth` with the conversation's token (never in the URL). Then first the "
            "messages after `after`, then status and (waiting) queue, "
            "then live events. A `message` frame is stored exactly once per client_message_id "
            "and answered on this socket by `ack`, which carries the stored message, or by "
            "`error` (400/404/413: not stored; 429, 503: retry). In a bot turn the message and "
            "the replies arrive as events first; in human mode the sending socket gets its own "
            "message only in the ack (the conversation's other sockets get the event).",
            "client": unions["WidgetFrame"],
            "server": unions["WidgetEvent"],
            "responses": _refusals(),
        },
            "/api/agent/ws": {
            "description": "The console's socket. Query: epoch, last_event_id (to resume). "
            "The first frame is `auth` with the session's token (never in the URL; not the "
            "cookie, which is the browser's last sign-in), unless the upgrade carried "
            "`Authorization: Bearer`. Then first `hello`, then what was missed (or `reset`), "
            "then live events with an increasing `id`.",
            "client": unions["ConsoleFrame"],
            "server": unions["ConsoleEvent"],
            "responses": _refusals(),
        },
    }


def _with_common_errors(paths: dict[str, Any]) -> dict[str, Any]:
    """Every API operation may answer 429 (handoff/web/ratelimit.py), and 503 while the
    database is unreachable (handoff/web/errors.py)."""
    return {
        path: {
            method: (
                {**op, "responses": {**op["responses"], **_errors(429, 503)}}
                if path.startswith("/api/")
                else op
            )
            for method, op in ops.items()
        }
        for path, ops in paths.items()
    }


@cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Baton gateway",
            "version": "0.1.0",
            "description": "Widget, console and operations API. The two WebSockets are "
            "described under x-websockets (the shapes in handoff/shapes/events.py; who gets "
            "which event and when: docs/contract.md).",
        },
        "paths": _with_common_errors(PATHS),
        "x-websockets": _websockets(),
        "components": {
            "schemas": _components()[0],
            "securitySchemes": {
                "conversationToken": {"type": "http", "scheme": "bearer"},
                "agentToken": {"type": "http", "scheme": "bearer"},
                "agentCookie": {"type": "apiKey", "in": "cookie", "name": "baton_session"},
                "opsSignature": {"type": "apiKey", "in": "header", "name": "X-Baton-Signature"},
                "opsTimestamp": {"type": "apiKey", "in": "header", "name": "X-Baton-Timestamp"},
            },
        },
    }
