"""Agent accounts: creating them and keeping a configured one in place."""

from __future__ import annotations

from sqlalchemy import select

from handoff.access.auth import hash_password, verify_password
from handoff.storage.db import make_engine, make_sessionmaker
from handoff.storage.models import Agent, utcnow


async def ensure_agent(
    database_url: str, email: str, password: str, name: str, role: str = "agent"
) -> bool:
    """Makes sure the agent exists with this password; True when something changed."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine).begin() as db:
            agent = await db.scalar(select(Agent).where(Agent.email == email.strip().lower()))
            if agent is None:
                db.add(
                    Agent(
                        email=email.strip().lower(),
                        name=name,
                        role=role,
                        password_hash=hash_password(password),
                        created_at=utcnow(),
                    )
                )
                return True
            changed = False
            if not verify_password(agent.password_hash, password):
                agent.password_hash = hash_password(password)
                changed = True
            if agent.name != name or agent.role != role:
                agent.name, agent.role = name, role
                changed = True
            return changed
    finally:
        await engine.dispose()
