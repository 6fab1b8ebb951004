"""What the conversations of a period teach support leads (GET /api/agent/insights).

report: the period's figures, counted from the stored conversations, handoffs, ratings
and empowered actions; its shape is handoff.shapes.insights.Insights.
Layer: beside agent_tools, above conversations; reads storage, writes nothing.
"""
