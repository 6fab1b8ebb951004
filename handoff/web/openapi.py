"""The OpenAPI 3.1 description of the gateway's HTTP API, served at /api/openapi.json.

tests/gateway/test_openapi.py validates every response the tests see against it.
"""

from __future__ import annotations

from functools import cache
from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Malformed input",
        401: "Not authenticated",
        403: "Refused",
        404: "Not found",
        409: "Not allowed in the conversation's current state",
        413: "Too large",
        429: "Too many requests: wait Retry-After seconds",
        503: "Not ready",
    }
    return {str(code): _json(_ref("Error"), text[code]) for code in codes}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_INT_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_AGENT = [{"agentToken": []}, {"agentCookie": []}]
_DECISION = {
    "required": False,
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"reason": {"type": "string"}}}
        }
    },
}


def _list_of(key: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": [key], "properties": {key: {"type": "array", "items": item}}}


def _one(key: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": [key], "properties": {key: item}}

_NULLABLE_STR = {"type": ["string", "null"]}
_FIELD_VALUES = {
    "type": "object",
    "additionalProperties": {"type": "string"},
    "description": "The action's declared fields by id, e.g. {\"flight\": \"BA119\", "
    "\"departure\": \"2026-12-04T09:40\"}",
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "message": {"type": "string"},
                    "field": {"type": "string", "description": "the input field that is wrong"},
                    "errors": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "the contact form: every wrong field's message, by field",
                    },
                },
            }
        },
    },
    "Status": {"type": "string", "enum": ["bot", "waiting", "agent"]},
    "Button": {
        "type": "object",
        "required": ["title", "payload"],
        "properties": {"title": {"type": "string"}, "payload": {"type": "string"}},
    },
    "Message": {
        "type": "object",
        "required": ["seq", "sender", "text", "created_at", "buttons", "author"],
        "properties": {
            "seq": {"type": "integer", "minimum": 1},
            "sender": {"type": "string", "enum": ["customer", "bot", "agent", "system"]},
            "text": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "buttons": {"type": "array", "items": _ref("Button")},
            "author": _NULLABLE_STR,
        },
    },
    "Nlu": {
        "type": ["object", "null"],
        "required": ["intent", "confidence", "entities", "frustration", "disruption"],
        "properties": {
            "intent": _NULLABLE_STR,
            "confidence": {"type": "number"},
            "intent_ranking": {"type": "array"},
            "entities": {"type": "array"},
            "frustration": {
                "type": "object",
                "required": ["score", "signals"],
                "properties": {
                    "score": {"type": "number", "minimum": 0, "maximum": 1},
                    "signals": {"type": "array", "items": {"type": "string"}},
                },
            },
            "disruption": {
                "type": "object",
                "required": ["type"],
                "properties": {"type": _NULLABLE_STR},
            },
        },
    },
    "AgentMessage": {
        "allOf": [_ref("Message")],
        "properties": {"nlu": _ref("Nlu")},
    },
    "AgentRef": {
        "type": ["object", "null"],
        "required": ["id", "name"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
    },
    "Handoff": {
        "type": "object",
        "required": ["reason", "disruption", "context", "requested_at"],
        "properties": {
            "id": {"type": "integer"},
            "reason": {
                "type": "string",
                "enum": ["requested", "frustration", "disruption", "bot_failure", "bot_unavailable"],
            },
            "disruption": _NULLABLE_STR,
            "context": {
                "type": "object",
                "description": "What the agent needs (docs/contract.md): summary, "
                "booking_reference, flight_number, customer_name, dates, resolved_dates "
                "(said -> ISO day), places, frustration {score, signals, drivers}, "
                "intents_seen. Updated while a person has the conversation (the console's "
                "`context` event).",
            },
            "requested_at": {"type": "string", "format": "date-time"},
            "claimed_at": _NULLABLE_STR,
            "resolved_at": _NULLABLE_STR,
            "agent": _ref("AgentRef"),
            "outcome": _NULLABLE_STR,
            "priority": {"type": "integer"},
            "requeued_at": _NULLABLE_STR,
            "contact": {"type": ["object", "null"]},
            "rating": {"type": ["integer", "null"]},
            "rating_comment": _NULLABLE_STR,
            "rated_at": _NULLABLE_STR,
        },
    },
    "Rating": {
        "type": "object",
        "description": "What the customer said of one handoff, after an agent resolved it.",
        "required": ["handoff_id", "score", "comment", "rated_at", "agent"],
        "properties": {
            "handoff_id": {"type": "integer"},
            "score": {"type": "integer", "minimum": 1, "maximum": 5},
            "comment": _NULLABLE_STR,
            "rated_at": {"type": "string", "format": "date-time"},
            "agent": _ref("AgentRef"),
        },
    },
    "Preview": {
        "type": ["object", "null"],
        "required": ["seq", "sender", "text", "created_at"],
        "properties": {
            "seq": {"type": "integer", "minimum": 1},
            "sender": {"type": "string", "enum": ["customer", "bot", "agent", "system"]},
            "text": {"type": "string", "maxLength": 160},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "HistoryEntry": {
        "type": "object",
        "description": "One conversation in History. state: bot (never handed off), "
        "waiting, agent, or resolved (back with the bot after an agent resolved it). "
        "handoff: the latest; agents: everyone who handled one of its handoffs; ratings: "
        "every rating given; last_message: the newest message (first 160 characters); "
        "match: the first message whose text matches q, or null.",
        "required": ["id", "status", "state", "created_at", "updated_at", "agent", "handoff",
                     "handoffs", "agents", "ratings", "last_message", "match"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string"},
            "status": _ref("Status"),
            "state": {"type": "string", "enum": ["bot", "waiting", "agent", "resolved"]},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "agent": _ref("AgentRef"),
            "handoff": {"anyOf": [_ref("Handoff"), {"type": "null"}]},
            "handoffs": {"type": "integer", "minimum": 0},
            "agents": {"type": "array", "items": _ref("AgentRef")},
            "ratings": {"type": "array", "items": _ref("Rating")},
            "last_message": _ref("Preview"),
            "match": _ref("Preview"),
        },
    },
    "QueueEntry": {
        "type": "object",
        "required": ["id", "status", "handoff"],
        "properties": {
            "id": {"type": "string"},
            "status": _ref("Status"),
            "handoff": {"anyOf": [_ref("Handoff"), {"type": "null"}]},
            "agent": _ref("AgentRef"),
            "customer_left_at": _NULLABLE_STR,
        },
    },
    "Note": {
        "type": "object",
        "required": ["id", "conversation_id", "text", "author", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "conversation_id": {"type": "string"},
            "text": {"type": "string"},
            "author": _ref("AgentRef"),
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "Canned": {
        "type": "object",
        "required": ["id", "shortcut", "title", "text", "updated_at"],
        "properties": {
            "id": {"type": "integer"},
            "shortcut": {"type": "string", "pattern": "^/[a-z0-9][a-z0-9_-]{0,30}$"},
            "title": {"type": "string"},
            "text": {"type": "string"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
    "CannedInput": {
        "type": "object",
        "properties": {
            "shortcut": {"type": "string", "description": "e.g. /bags; unique"},
            "title": {"type": "string", "maxLength": 120},
            "text": {"type": "string", "minLength": 1},
        },
    },
    "ResolutionAction": {
        "type": "object",
        "description": "A configured empowered action, as the calling agent's role sees it. "
        "limit: the largest amount the caller may commit at once (0: always needs "
        "approval; null: the action takes no amount). per_conversation: the most the "
        "caller's authority covers in one conversation, what was already given there "
        "included (above it, a supervisor approves). immediate: the caller may do it "
        "at once (within limit). max_amount: the most anyone may approve at once.",
        "required": ["id", "label", "takes_amount", "currency", "limit", "per_conversation",
                     "max_amount", "immediate", "fields"],
        "properties": {
            "id": {"type": "string"},
            "label": {"type": "string"},
            "takes_amount": {"type": "boolean"},
            "currency": _NULLABLE_STR,
            "limit": {"type": ["number", "null"]},
            "per_conversation": {"type": ["number", "null"]},
            "max_amount": {"type": ["number", "null"]},
            "immediate": {"type": "boolean"},
            "fields": {
                "type": "array",
                "description": "The details the action takes, each required (e.g. the new "
                "flight): flight_number such as BA119; datetime, the local time of "
                "departure as YYYY-MM-DDTHH:MM, from today to a year ahead",
                "items": {
                    "type": "object",
                    "required": ["id", "label", "type"],
                    "properties": {
                        "id": {"type": "string"},
                        "label": {"type": "string"},
                        "type": {"type": "string", "enum": ["flight_number", "datetime"]},
                    },
                },
            },
        },
    },
    "Resolution": {
        "type": "object",
        "description": "An empowered action taken or asked for. done: carried out, the "
        "customer was told; pending_approval: waiting for a supervisor, the customer was "
        "told it is being approved; rejected: a supervisor said no (the customer was "
        "promised nothing); failed: the booking system did not carry it out (see failure).",
        "required": ["id", "conversation_id", "action", "label", "amount", "currency",
                     "fields", "status", "requested_by", "requested_at", "reference"],
        "properties": {
            "id": {"type": "integer"},
            "conversation_id": {"type": "string"},
            "action": {"type": "string"},
            "label": {"type": "string"},
            "amount": {"type": ["number", "null"]},
            "currency": _NULLABLE_STR,
            "fields": _FIELD_VALUES,
            "note": _NULLABLE_STR,
            "status": {
                "type": "string",
                "enum": ["pending_approval", "in_progress", "done", "rejected", "failed"],
            },
            "requested_by": _ref("AgentRef"),
            "requested_at": {"type": "string", "format": "date-time"},
            "decided_by": _ref("AgentRef"),
            "decided_at": _NULLABLE_STR,
            "decision_reason": _NULLABLE_STR,
            "reference": _NULLABLE_STR,
            "carried_out_at": _NULLABLE_STR,
            "failure": _NULLABLE_STR,
        },
    },
    "Approval": {
        "description": "A request waiting for a supervisor, with what they weigh: the "
        "conversation's booking, flight, handoff reason and customer's name (from the "
        "handoff), what was already given in the conversation (carried out or under way; "
        "given.amount: of this request's action), and the caller's authority for it "
        "(null for an action without an amount).",
        "allOf": [
            _ref("Resolution"),
            {
                "type": "object",
                "required": ["conversation", "given", "authority"],
                "properties": {
                    "conversation": {
                        "type": "object",
                        "required": ["reason", "disruption", "booking_reference",
                                     "flight_number", "customer_name"],
                        "properties": {
                            "reason": _NULLABLE_STR,
                            "disruption": _NULLABLE_STR,
                            "booking_reference": _NULLABLE_STR,
                            "flight_number": _NULLABLE_STR,
                            "customer_name": _NULLABLE_STR,
                        },
                    },
                    "given": {
                        "type": "object",
                        "required": ["amount", "currency", "items"],
                        "properties": {
                            "amount": {"type": ["number", "null"]},
                            "currency": _NULLABLE_STR,
                            "items": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["id", "action", "label", "amount", "currency",
                                                 "fields", "status", "reference"],
                                    "properties": {
                                        "id": {"type": "integer"},
                                        "action": {"type": "string"},
                                        "label": {"type": "string"},
                                        "amount": {"type": ["number", "null"]},
                                        "currency": _NULLABLE_STR,
                                        "fields": _FIELD_VALUES,
                                        "status": {"enum": ["in_progress", "done"]},
                                        "reference": _NULLABLE_STR,
                                    },
                                },
                            },
                        },
                    },
                    "authority": {
                        "type": ["object", "null"],
                        "required": ["limit", "per_conversation", "remaining"],
                        "properties": {
                            "limit": {"type": "number"},
                            "per_conversation": {"type": "number"},
                            "remaining": {"type": "number"},
                        },
                    },
                },
            },
        ],
    },
    "AuditEntry": {
        "type": "object",
        "description": "action: claim, transfer, requeue, resolve, note_added, "
        "resolution_requested, resolution_approved, resolution_rejected, "
        "resolution_carried_out, resolution_failed, canned_created, canned_updated, "
        "canned_deleted, canned_seeded. agent is null when the gateway itself acted.",
        "required": ["id", "at", "agent", "conversation_id", "action", "details"],
        "properties": {
            "id": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
            "agent": _ref("AgentRef"),
            "conversation_id": _NULLABLE_STR,
            "action": {"type": "string"},
            "details": {"type": "object"},
        },
    },
    # Frames on the widget's socket (see "x-websockets" and docs/contract.md).
    "SocketAuth": {
        "type": "object",
        "required": ["type", "token"],
        "additionalProperties": False,
        "description": "A socket's first frame, unless the upgrade carried "
        "`Authorization: Bearer`: the conversation's token (widget) or the session's "
        "(console). Without it within BATON_SOCKET_AUTH_SECONDS the socket is closed with "
        "4408; a frame that is not this closes it with 4401; a refused token with 4404 "
        "(widget) or 4401 (console), the reason in words.",
        "properties": {
            "type": {"const": "auth"},
            "token": {"type": "string", "minLength": 1, "maxLength": 256},
        },
    },
    "SocketMessage": {
        "type": "object",
        "required": ["type", "text", "client_message_id"],
        "properties": {
            "type": {"const": "message"},
            "text": {"type": "string", "minLength": 1, "maxLength": 4000},
            "client_message_id": {"type": "string", "minLength": 1, "maxLength": 64},
            "payload": {"type": "string", "maxLength": 200},
        },
    },
    "SocketTyping": {
        "type": "object",
        "required": ["type", "typing"],
        "properties": {
            "type": {"const": "typing"},
            "typing": {"type": "boolean"},
            "conversation_id": {"type": "string", "description": "console only"},
        },
    },
    "Ack": {
        "type": "object",
        "required": ["type", "client_message_id", "seq", "status", "message"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "ack"},
            "client_message_id": {"type": "string"},
            "seq": {"type": "integer", "minimum": 1},
            "status": {"type": "string", "enum": ["bot", "waiting", "agent"]},
            "message": {
                "allOf": [_ref("Message")],
                "description": "the stored message (the original one for a retry); in "
                "human mode the sending socket gets no `message` event of it",
            },
        },
    },
    "SocketError": {
        "type": "object",
        "required": ["type", "client_message_id", "error"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "error"},
            "client_message_id": {"type": ["string", "null"]},
            "error": {"$ref": "#/components/schemas/Error/properties/error"},
        },
    },
}

PATHS: dict[str, Any] = {
    "/api/conversations": {
        "post": {
            "summary": "Open a conversation (widget)",
            "responses": {
                "201": _json(
                    {
                        "type": "object",
                        "required": ["id", "token"],
                        "properties": {"id": {"type": "string"}, "token": {"type": "string"}},
                    },
                    "Created",
                ),
                **_errors(403),
            },
        }
    },
    "/api/conversations/{id}": {
        "get": {
            "summary": "A conversation's status",
            "security": [{"conversationToken": []}],
            "parameters": [_ID],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["id", "status", "rating"],
                        "properties": {
                            "id": {"type": "string"},
                            "status": _ref("Status"),
                            "agent": {
                                "type": ["object", "null"],
                                "properties": {"name": {"type": "string"}},
                            },
                            "rating": {
                                "type": ["object", "null"],
                                "description": "Non-null while the customer can still rate "
                                "the chat an agent resolved (POST .../rating): the latest "
                                "resolved handoff is unrated, was resolved less than 24 h "
                                "ago, and the conversation is back with the bot.",
                                "required": ["agent", "asked_at"],
                                "properties": {
                                    "agent": {
                                        "type": ["object", "null"],
                                        "required": ["name"],
                                        "properties": {"name": {"type": "string"}},
                                    },
                                    "asked_at": {"type": "string", "format": "date-time"},
                                },
                            },
                        },
                    }
                ),
                **_errors(401, 404),
            },
        }
    },
    "/api/conversations/{id}/messages": {
        "get": {
            "summary": "Messages after a seq",
            "security": [{"conversationToken": []}],
            "parameters": [
                _ID,
                {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["messages"],
                        "properties": {"messages": {"type": "array", "items": _ref("Message")}},
                    }
                ),
                **_errors(400, 401, 404),
            },
        },
        "post": {
            "summary": "Send a customer message; answers with the turn it started",
            "security": [{"conversationToken": []}],
            "parameters": [_ID],
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["text"],
                    "properties": {
                        "text": {"type": "string", "minLength": 1},
                        "payload": {"type": "string"},
                        "client_message_id": {"type": "string", "maxLength": 64},
                    },
                }
            ),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["status", "messages"],
                        "properties": {
                            "status": _ref("Status"),
                            "messages": {"type": "array", "items": _ref("Message")},
                        },
                    }
                ),
                **_errors(400, 401, 404, 413),
            },
        },
    },
    "/api/conversations/{id}/contact": {
        "post": {
            "summary": "While waiting: leave contact details and a message for a follow-up",
            "security": [{"conversationToken": []}],
            "parameters": [_ID],
            "requestBody": _body(
                {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "email": {"type": "string"},
                        "phone": {"type": "string"},
                        "message": {"type": "string"},
                    },
                    "description": "An email or a phone is required. Each field is checked "
                    "on its own: a 400 names the first wrong one in `field` and `message`, "
                    "and every wrong one in `errors` (by field), in plain words.",
                }
            ),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["status", "messages"],
                        "properties": {
                            "status": _ref("Status"),
                            "messages": {"type": "array", "items": _ref("Message")},
                        },
                    }
                ),
                **_errors(400, 401, 404, 409, 413),
            },
        }
    },
    "/api/conversations/{id}/rating": {
        "post": {
            "summary": "After an agent resolved: the customer's satisfaction (1-5)",
            "security": [{"conversationToken": []}],
            "parameters": [_ID],
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["score"],
                    "properties": {
                        "score": {"type": "integer", "minimum": 1, "maximum": 5},
                        "comment": {"type": "string"},
                    },
                }
            ),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["score", "comment"],
                        "properties": {
                            "score": {"type": "integer"},
                            "comment": _NULLABLE_STR,
                        },
                    }
                ),
                **_errors(400, 401, 404, 409, 413),
            },
        }
    },
    "/api/agent/login": {
        "post": {
            "summary": "Log an agent in (also sets the console's session cookie)",
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["email", "password"],
                    "properties": {"email": {"type": "string"}, "password": {"type": "string"}},
                }
            ),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["token", "agent"],
                        "properties": {"token": {"type": "string"}, "agent": {"type": "object"}},
                    }
                ),
                **_errors(400, 401),
            },
        }
    },
    "/api/agent/logout": {
        "post": {
            "summary": "End the agent's session",
            "security": [{"agentToken": []}, {"agentCookie": []}],
            "responses": {"200": _json({"type": "object"}), **_errors(401)},
        }
    },
    "/api/agent/me": {
        "get": {
            "summary": "The logged-in agent",
            "security": [{"agentToken": []}, {"agentCookie": []}],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["id", "name", "email", "role"],
                        "properties": {
                            "id": {"type": "integer"},
                            "name": {"type": "string"},
                            "email": {"type": "string"},
                            "role": {"type": "string"},
                        },
                    }
                ),
                **_errors(401),
            },
        }
    },
    "/api/agent/queue": {
        "get": {
            "summary": "Handed-off conversations: waiting first, oldest first",
            "security": [{"agentToken": []}, {"agentCookie": []}],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["conversations"],
                        "properties": {
                            "conversations": {"type": "array", "items": _ref("QueueEntry")}
                        },
                    }
                ),
                **_errors(401),
            },
        }
    },
    "/api/agent/conversations": {
        "get": {
            "summary": "History: every conversation, newest first (by when it started), "
            "filtered and searched, a page at a time",
            "description": "Filters combine (and). reason matches any of the "
            "conversation's handoffs; agent: who held one of them (claimed, was transferred "
            "it, resolved it, or passed it on); from/to keep the conversations going on in the period "
            "(started before its end, last active at or after its start); q matches message "
            "text, the handoffs' booking reference and customer name, the contact form's "
            "e-mail, phone and name, and the start of the id, ignoring case. Open one with GET /api/agent/conversations/{id}. "
            "Any bad parameter: 400 naming it.",
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
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["conversations", "next"],
                        "properties": {
                            "conversations": {"type": "array", "items": _ref("HistoryEntry")},
                            "next": {
                                "type": ["string", "null"],
                                "description": "before= this for the next page; null: the last",
                            },
                        },
                    }
                ),
                **_errors(400, 401),
            },
        }
    },
    "/api/agent/conversations/{id}": {
        "get": {
            "summary": "A conversation with its handoff and whole transcript",
            "security": [{"agentToken": []}, {"agentCookie": []}],
            "parameters": [_ID],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["id", "status", "state", "handoff", "messages", "notes",
                                     "resolutions", "audit"],
                        "properties": {
                            "id": {"type": "string"},
                            "status": _ref("Status"),
                            "state": {
                                "type": "string",
                                "enum": ["bot", "waiting", "agent", "resolved"],
                                "description": "as in History: resolved is back with the "
                                "bot after an agent resolved it; bot, never handed off",
                            },
                            "agent": _ref("AgentRef"),
                            "handoff": {"anyOf": [_ref("Handoff"), {"type": "null"}]},
                            "handoffs": {"type": "array", "items": _ref("Handoff")},
                            "messages": {"type": "array", "items": _ref("AgentMessage")},
                            "notes": {"type": "array", "items": _ref("Note")},
                            "resolutions": {"type": "array", "items": _ref("Resolution")},
                            "audit": {"type": "array", "items": _ref("AuditEntry")},
                        },
                    }
                ),
                **_errors(401, 404),
            },
        }
    },
    "/api/agent/conversations/{id}/claim": {
        "post": {
            "summary": "Take a waiting conversation",
            "security": [{"agentToken": []}, {"agentCookie": []}],
            "parameters": [_ID],
            "responses": {"200": _json(_ref("QueueEntry")), **_errors(401, 403, 404, 409)},
        }
    },
    "/api/agent/conversations/{id}/messages": {
        "post": {
            "summary": "Reply to the customer",
            "description": "The console sends replies on its socket while it is live (a "
            "`message` frame with `conversation_id`, answered by an `ack`); this is the same "
            "reply over HTTP. A retry with the same `client_message_id` stores nothing new "
            "and answers 200 with the reply stored first.",
            "security": [{"agentToken": []}, {"agentCookie": []}],
            "parameters": [_ID],
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["text"],
                    "properties": {
                        "text": {"type": "string", "minLength": 1},
                        "client_message_id": {"type": "string", "maxLength": 64},
                    },
                }
            ),
            "responses": {
                "201": _json(
                    {
                        "type": "object",
                        "required": ["message"],
                        "properties": {"message": _ref("Message")},
                    },
                    "Sent",
                ),
                "200": _json(
                    {
                        "type": "object",
                        "required": ["message"],
                        "properties": {"message": _ref("Message")},
                    },
                    "Sent before under this client_message_id (a retry)",
                ),
                **_errors(400, 401, 403, 404, 409, 413),
            },
        }
    },
    "/api/agent/conversations/{id}/resolve": {
        "post": {
            "summary": "Resolve: the conversation goes back to the bot",
            "security": [{"agentToken": []}, {"agentCookie": []}],
            "parameters": [_ID],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": {"outcome": {"type": "string"}}}
                    }
                },
            },
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["id", "status"],
                        "properties": {"id": {"type": "string"}, "status": _ref("Status")},
                    }
                ),
                **_errors(400, 401, 403, 404, 409),
            },
        }
    },
    "/api/agent/agents": {
        "get": {
            "summary": "Every agent, with role and whether their console is connected",
            "security": _AGENT,
            "responses": {
                "200": _json(
                    _list_of(
                        "agents",
                        {
                            "type": "object",
                            "required": ["id", "name", "role", "online"],
                            "properties": {
                                "id": {"type": "integer"},
                                "name": {"type": "string"},
                                "role": {"type": "string", "enum": ["agent", "supervisor"]},
                                "online": {"type": "boolean"},
                            },
                        },
                    )
                ),
                **_errors(401),
            },
        }
    },
    "/api/agent/conversations/{id}/notes": {
        "get": {
            "summary": "Private notes on a conversation (never shown to the customer)",
            "security": _AGENT,
            "parameters": [_ID],
            "responses": {"200": _json(_list_of("notes", _ref("Note"))), **_errors(401, 404)},
        },
        "post": {
            "summary": "Add a private note; consoles get a note event",
            "security": _AGENT,
            "parameters": [_ID],
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["text"],
                    "properties": {"text": {"type": "string", "minLength": 1}},
                }
            ),
            "responses": {
                "201": _json(_one("note", _ref("Note")), "Added"),
                **_errors(400, 401, 403, 404, 413),
            },
        },
    },
    "/api/agent/canned": {
        "get": {
            "summary": "Canned responses, by shortcut",
            "security": _AGENT,
            "responses": {"200": _json(_list_of("canned", _ref("Canned"))), **_errors(401)},
        },
        "post": {
            "summary": "Add a canned response (supervisors)",
            "security": _AGENT,
            "requestBody": _body({**SCHEMAS["CannedInput"], "required": ["shortcut", "title", "text"]}),
            "responses": {
                "201": _json(_one("canned", _ref("Canned")), "Added"),
                **_errors(400, 401, 403, 409, 413),
            },
        },
    },
    "/api/agent/canned/{id}": {
        "patch": {
            "summary": "Change a canned response's shortcut, title or text (supervisors)",
            "security": _AGENT,
            "parameters": [_INT_ID],
            "requestBody": _body(_ref("CannedInput")),
            "responses": {
                "200": _json(_one("canned", _ref("Canned"))),
                **_errors(400, 401, 403, 404, 409, 413),
            },
        },
        "delete": {
            "summary": "Remove a canned response (supervisors; the audit log keeps it)",
            "security": _AGENT,
            "parameters": [_INT_ID],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["id", "deleted"],
                        "properties": {"id": {"type": "integer"}, "deleted": {"const": True}},
                    }
                ),
                **_errors(401, 403, 404),
            },
        },
    },
    "/api/agent/resolutions": {
        "get": {
            "summary": "The configured empowered actions, with the caller's authority",
            "security": _AGENT,
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["role", "actions"],
                        "properties": {
                            "role": {"type": "string"},
                            "actions": {"type": "array", "items": _ref("ResolutionAction")},
                        },
                    }
                ),
                **_errors(401),
            },
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
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["action"],
                    "properties": {
                        "action": {"type": "string"},
                        "amount": {
                            "type": "number",
                            "exclusiveMinimum": 0,
                            "description": "Required exactly when the action takes an amount",
                        },
                        "fields": {**_FIELD_VALUES, "description": "Required exactly when "
                                   "the action declares fields: a value for each, by id"},
                        "note": {"type": "string", "description": "For the supervisor; private"},
                    },
                }
            ),
            "responses": {
                "201": _json(_one("resolution", _ref("Resolution")), "Recorded"),
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
            "requestBody": _body(
                {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["agent_id"],
                            "properties": {"agent_id": {"type": "integer"}},
                        },
                        {
                            "type": "object",
                            "required": ["to"],
                            "properties": {"to": {"const": "queue"}},
                        },
                    ]
                }
            ),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["id", "status", "agent"],
                        "properties": {
                            "id": {"type": "string"},
                            "status": _ref("Status"),
                            "agent": _ref("AgentRef"),
                        },
                    }
                ),
                **_errors(400, 401, 403, 404, 409),
            },
        }
    },
    "/api/agent/approvals": {
        "get": {
            "summary": "Empowered actions waiting for a supervisor, oldest first (supervisors)",
            "security": _AGENT,
            "responses": {
                "200": _json(_list_of("approvals", _ref("Approval"))),
                **_errors(401, 403),
            },
        }
    },
    "/api/agent/approvals/{id}/approve": {
        "post": {
            "summary": "Approve: it is carried out and the customer told (supervisors, within "
            "their own limit, not their own request)",
            "security": _AGENT,
            "parameters": [_INT_ID],
            "requestBody": _DECISION,
            "responses": {
                "200": _json(_one("resolution", _ref("Resolution"))),
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
            "requestBody": _DECISION,
            "responses": {
                "200": _json(_one("resolution", _ref("Resolution"))),
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
            "responses": {
                "200": _json(_list_of("entries", _ref("AuditEntry"))),
                **_errors(400, 401, 403),
            },
        }
    },
    "/healthz": {
        "get": {"summary": "The gateway is up", "responses": {"200": _json({"type": "object"})}}
    },
    "/readyz": {
        "get": {
            "summary": "The gateway, Rasa and the action server all answer",
            "responses": {
                "200": _json({"type": "object"}),
                "503": _json({"type": "object"}, "Not ready"),
            },
        }
    },
}


# Not OpenAPI proper (it has no WebSockets): what each socket takes and answers, after
# AsyncAPI's publish/subscribe. Server events are plain JSON objects with a "type".
WEBSOCKETS: dict[str, Any] = {
    "/api/conversations/{id}/ws": {
        "description": "The widget's socket. Query: after (the last seq seen). The first "
        "frame is `auth` with the conversation's token (never in the URL). Then first the "
        "messages after `after`, then status and (waiting) queue, "
        "then live events. A `message` frame is stored exactly once per client_message_id "
        "and answered on this socket by `ack`, which carries the stored message, or by "
        "`error` (400/404/413: not stored; 429, 503: retry). In a bot turn the message and "
        "the replies arrive as events first; in human mode the sending socket gets its own "
        "message only in the ack (the conversation's other sockets get the event).",
        "client": {"oneOf": [_ref("SocketAuth"), _ref("SocketMessage"), _ref("SocketTyping")]},
        "server": {
            "events": ["message", "status", "queue", "typing"],
            "answers": {"oneOf": [_ref("Ack"), _ref("SocketError")]},
        },
    },
    "/api/agent/ws": {
        "description": "The console's socket. Query: epoch, last_event_id (to resume). "
        "The first frame is `auth` with the session's token (never in the URL; not the "
        "cookie, which is the browser's last sign-in), unless the upgrade carried "
        "`Authorization: Bearer`. Then first `hello`, then what was missed (or `reset`), "
        "then live events with an increasing `id`.",
        "client": {"oneOf": [_ref("SocketAuth"), _ref("SocketTyping")]},
        "server": {
            "events": ["hello", "reset", "message", "status", "handoff", "typing", "note",
                       "resolution", "transfer", "canned", "presence", "context",
                       "rating"],
        },
    },
}


def _with_rate_limits(paths: dict[str, Any]) -> dict[str, Any]:
    """Every API operation may answer 429 (handoff/web/ratelimit.py)."""
    return {
        path: {
            method: (
                {**op, "responses": {**op["responses"], **_errors(429)}}
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
            "described under x-websockets (events in handoff/live/events.py, docs/contract.md).",
        },
        "paths": _with_rate_limits(PATHS),
        "x-websockets": WEBSOCKETS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "conversationToken": {"type": "http", "scheme": "bearer"},
                "agentToken": {"type": "http", "scheme": "bearer"},
                "agentCookie": {"type": "apiKey", "in": "cookie", "name": "baton_session"},
            },
        },
    }
