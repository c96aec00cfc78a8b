"""Idle: same as idle.lua on asyncio: 100,000 tasks each waiting on its own
empty asyncio.Queue (its mailbox); once all have started, print the count.
Peak RSS minus that of `idle.py 0`, over the count, is the memory of an idle
task. Argument: [ACTORS]."""
import asyncio
import os
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
waiting = 0


async def idle(box):
    global waiting
    waiting += 1
    return await box.get()


async def main():
    tasks = [asyncio.create_task(idle(asyncio.Queue())) for _ in range(N)]
    await asyncio.sleep(0)  # every task runs up to its get()
    print(waiting, flush=True)
    # Leave at once: cancelling 100,000 tasks takes seconds and measures
    # nothing the other programs do (the Lua one drops its waiting actors).
    os._exit(0)


asyncio.run(main())
