"""HTTP and WebSocket handlers: parse and check input, call handoff.conversations.actions, shape output."""
