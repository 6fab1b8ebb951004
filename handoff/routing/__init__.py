"""Who answers, and in what order: the human queue, the team's hours, turns.

queue: the queue's order (handoff_priority), each waiting customer's place and expected
wait; team and opening_hours: whether the team can answer now; presence: agents' grace
after their last console closes; turns: one turn at a time per conversation (TurnLocks)
and the background tasks that must not delay an answer.
Layer: beside assistant and access, under conversations; may import live, storage and
shapes. It changes no conversation and publishes nothing: a grace that runs out calls
back the action app.py hands it (do_agent_gone).
"""
