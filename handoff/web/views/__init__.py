"""HTTP and WebSocket handlers: parse and check input, call the conversation and agent-tool actions, shape output."""
