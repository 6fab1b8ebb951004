"""A conversation's life as actions: each changes state, stores messages, then publishes.

customer_turns: a new conversation and a customer's message (the bot turn, the handoff);
agent_side: claim, reply, resolve, requeue when an agent is gone; customer_side: contact
details, rating, presence, the context's later updates; common: what they share (holder_of,
publish_messages, status_changed, publish_queue); annotations and context: the bot reading
along in human mode; handoff_notices, ratings; history: the console's History pages;
identity: the customer's identity their site signed, verified as the conversation opens.
Layer: under web and agent_tools; may import routing, assistant, access, operations,
live, storage, shapes. No request parsing (views do it); messages are stored only
through storage.writer.
"""
