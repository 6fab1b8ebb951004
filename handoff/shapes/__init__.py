"""Every shape that crosses the gateway's wire, written once as msgspec Structs.

``http`` holds the HTTP API's bodies (and the payloads events carry), ``events`` the
socket frames. They encode, parse, and generate the OpenAPI components
(handoff/web/openapi.py). A leaf: it imports nothing from handoff, so every layer may
import it. Shapes only: events are built in handoff.live.events, rows turned into these
shapes in handoff.live.serializers.
"""
