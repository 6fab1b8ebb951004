"""Who is asking: customers by their conversation's token, agents by a session.

auth: password hashes, tokens and their hashes (TokenHashes remembers conversations'),
check_conversation_token, agent sessions (opened at login, looked up per request or
socket, revoked at logout) and current_agent; agents: creating an agent account and
keeping a configured one in place (ensure_agent, for ``python -m handoff ensure-agent``);
signatures: requests other systems sign with a shared secret (the operations feed).
Layer: beside routing, assistant and operations, under conversations; may import live, storage and
shapes. A role's authority over resolutions is handoff.agent_tools.resolution_actions',
rate limits and login throttling handoff.web.ratelimit's.
"""
