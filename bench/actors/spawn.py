"""Spawn: same work as spawn.lua on asyncio: create 100,000 tasks, each
returning twice its argument, then await every one and sum. Prints
"100000 10000100000". Argument: [ACTORS]."""
import asyncio
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000


async def work(i):
    return 2 * i


async def main():
    tasks = [asyncio.create_task(work(i)) for i in range(1, N + 1)]
    s = 0
    for t in tasks:
        s += await t
    print(N, s)


asyncio.run(main())
