"""The edge: HTTP and WebSocket handlers, and what guards them.

views/: the routes (customer: the widget's API and socket; agent: login, queue, claim,
reply, resolve and the console's socket; console: the agent tools; history; disruptions:
the operations feed and its list; ops: health, readiness, OpenAPI; pages; origins).
Beside them: validation (bodies and queries read, a clear 400), signed_body (a signed
body's signature checked first), contact (the contact form's fields), errors, ratelimit, socket_auth (a
socket's first frame), access_log (secrets out of URLs), openapi (from handoff.shapes).
The top layer: may import every room. No state changes here (views call the actions of
handoff.conversations, handoff.agent_tools and handoff.operations) and no SQL (handoff.storage.queries).
"""
