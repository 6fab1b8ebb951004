"""The gateway's side of the assistant: the client of Rasa's ``baton`` channel.

rasa_client: RasaClient (send a message with who has the conversation, set_mode, ready),
BotTurn and BotMessage (what Rasa answered), BotUnavailable (Rasa or the action server
did not answer in time; RasaDown when Rasa itself did not; TurnNotSent when the turn
never reached it), and the kept-alive HTTP session. admission: Admission, a few turns in
flight to one Rasa process at once and the rest waiting in order, failing fast only while
it is down. pool: RasaPool, each conversation on one of several processes (rendezvous
hashing), the next one when a turn could not reach it; its cleanup context.
Layer: beside routing and access, under conversations; may import live, storage and
shapes (it needs only keys). It decides nothing: what a turn means (stored, handed off)
is handoff.conversations.customer_turns'; the wire shape is docs/contract.md's.
"""
