"""Ring: same work as ring.lua on asyncio: 1,000 tasks, each with an
asyncio.Queue as its mailbox, pass a counter 1,000,000 times; the one that
receives 0 resolves a future the main coroutine awaits. Prints "1 1000000".
Arguments: [ACTORS] [HOPS]."""
import asyncio
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
M = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000


async def main():
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    boxes = [asyncio.Queue() for _ in range(N)]

    async def node(i):
        box, nxt = boxes[i - 1], boxes[i % N]
        while True:
            n = await box.get()
            if n == 0:
                done.set_result(i)
                return
            nxt.put_nowait(n - 1)

    tasks = [asyncio.create_task(node(i)) for i in range(1, N + 1)]
    boxes[0].put_nowait(M)
    who = await done
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(who, M)


asyncio.run(main())
