"""The database: its tables, sessions, and the one door to storing messages.

models and migrations/: the tables; db: the engine, Database.read and .write, Alembic;
writer: MessageWriter and store_in_transaction, the only way a message is stored (behind
it, never imported from outside: group_commit, batch, drafts, dialects, write_statements,
write_connection, busy, duplicates); client_ids and holders: what each message would
otherwise read back; audit: the append-only audit log; queries: the views' named reads.
Layer: under live; may import only handoff.shapes. No HTTP, no events, no decisions:
what a change of a conversation means is handoff.conversations'.
"""
