"""HTTP and WebSocket handlers: parse and check input, call handoff.actions, shape output."""
