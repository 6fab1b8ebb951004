"""What reaches open sockets: the events, the one publisher, the registry of sockets.

events: a builder for every event (Structs of handoff.shapes.events); publisher: the
Publisher, the one way events reach sockets (to_conversation for widgets, to_agents for
consoles, with ids to resume from); fanout: the same through one Redis stream when several
gateways share Redis; sockets: SocketRegistry (widgets by conversation,
consoles by agent, watchers, slow readers' backlogs); serializers: rows to API shapes.
Layer: under routing, assistant and access; may import storage and shapes. It decides
nothing about conversations: only the actions (handoff.conversations,
handoff.agent_tools) and the socket views (typing) call the Publisher.
"""
