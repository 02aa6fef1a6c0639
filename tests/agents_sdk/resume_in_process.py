"""Run in a new process by test_thread_session: resume a session in a store (a local home
or a PostgreSQL URL), run one more turn, print what the model saw and what the session
holds (JSON)."""

from __future__ import annotations

import asyncio
import json
import sys

from agents import RunConfig, Runner
from tests.agents_sdk.fake_model import ScriptedModel, reply, weather_agent
from tests.agents_sdk.test_thread_session import texts

from codex_thread_store import open_store
from codex_thread_store.agents_sdk import ThreadSession


async def main(url: str, session_id: str) -> None:
    async with open_store(url) as store:
        session = ThreadSession(session_id, store)
        model = ScriptedModel([[reply("Sunny again.", 9)]])
        await Runner.run(
            weather_agent(model),
            "And tomorrow?",
            session=session,
            run_config=RunConfig(tracing_disabled=True),
        )
        items = await session.get_items()
        await session.close()
    print(json.dumps({"model_saw": texts(model.inputs[-1]), "items": texts(items)}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
