"""A load generator that records every request itself: an open-loop Poisson
stream (--rate) or a closed loop of N users with think time (--users).

Arrivals are scheduled at absolute times drawn from one seeded stream
(exponential gaps of mean 1/rate), and each request is sent at its time
whether or not earlier ones have answered: an open loop, so a slow system
does not slow the arrivals. Bounded in count (rate x duration x 1.5, and
never more than --max-requests) and in time (duration plus --timeout for the
last answers). Not instrumented: the gateway's SERVER span is each trace's root.

With --users N --think-ms M, each of N users sends a request, waits for its
answer, thinks for an exponential draw of mean M (its own seeded stream), and
sends again, until --duration has passed (a user's first send comes after one
think draw, as meshsim's closed workloads start). Bounded by the duration,
--max-requests in all, and --timeout per request.

Writes one CSV line per request: its scheduled and actual send times (seconds
from the start), latency in seconds, and HTTP status (0 for a failure).

    python -m meshapp.loadgen --url http://127.0.0.1:PORT/api/checkout
        --rate 50 --duration 60 --seed 14 --out requests.csv
"""

import argparse
import asyncio
import random
import time
from pathlib import Path


def planned(rate, duration, seed, max_requests=100_000):
    """The open loop's schedule for these arguments, as main() sends it (the
    prediction replays it: meshsim's `arrival: replay`)."""
    cap = min(max_requests, int(rate * duration * 1.5) + 10)
    return arrivals(rate, duration, seed, cap)


def arrivals(rate, duration, seed, cap):
    """The scheduled send times (seconds from start), at most `cap` of them."""
    rng = random.Random(f"{seed}/loadgen/arrivals")
    t, times = 0.0, []
    while len(times) < cap:
        t += rng.expovariate(rate)
        if t >= duration:
            break
        times.append(t)
    return times


async def get(session, url):
    """One request: its HTTP status, or 0 for a failure (refused, reset, timed out)."""
    import aiohttp

    try:
        async with session.get(url) as resp:
            await resp.read()
            return resp.status
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return 0


async def run(url, times, timeout):
    import aiohttp

    rows = []
    start = time.monotonic()

    async def one(session, scheduled):
        delay = scheduled - (time.monotonic() - start)
        if delay > 0:
            await asyncio.sleep(delay)
        sent = time.monotonic() - start
        status = await get(session, url)
        rows.append((scheduled, sent, time.monotonic() - start - sent, status))

    limit = aiohttp.ClientTimeout(total=timeout)
    connector = aiohttp.TCPConnector(limit=0)  # open loop: no cap on in-flight requests
    async with aiohttp.ClientSession(timeout=limit, connector=connector) as session:
        tasks = [asyncio.create_task(one(session, t)) for t in times]
        bound = (times[-1] if times else 0) + timeout + 5
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=bound)
    rows.sort()
    return rows


async def run_closed(url, users, think_s, duration, seed, cap, timeout):
    import aiohttp

    rows = []
    start = time.monotonic()

    async def user(session, i):
        rng = random.Random(f"{seed}/loadgen/user/{i}/think")
        while True:
            await asyncio.sleep(rng.expovariate(1.0 / think_s) if think_s > 0 else 0)
            sent = time.monotonic() - start
            if sent >= duration or len(rows) >= cap:
                return
            status = await get(session, url)
            rows.append((sent, sent, time.monotonic() - start - sent, status))

    limit = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=limit, connector=aiohttp.TCPConnector(limit=0)) as s:
        users_ = [user(s, i) for i in range(users)]
        await asyncio.wait_for(asyncio.gather(*users_), timeout=duration + timeout + 5)
    rows.sort()
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--rate", type=float, help="requests per second (open loop)")
    ap.add_argument("--users", type=int, help="a closed loop of this many users instead")
    ap.add_argument("--think-ms", type=float, default=0.0, help="closed loop: mean think time")
    ap.add_argument("--duration", type=float, required=True, help="seconds")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds a request may take")
    ap.add_argument("--max-requests", type=int, default=100_000)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    assert 0 < args.duration <= 3600, "a bounded load"
    if args.users:
        assert 0 < args.users <= 1000 and args.think_ms >= 0, "a modest closed loop"
        rows = asyncio.run(run_closed(args.url, args.users, args.think_ms / 1e3, args.duration,
                                      args.seed, args.max_requests, args.timeout))
    else:
        assert args.rate and 0 < args.rate <= 1000, "a modest open-loop rate (--rate)"
        times = planned(args.rate, args.duration, args.seed, args.max_requests)
        rows = asyncio.run(run(args.url, times, args.timeout))
    with open(args.out, "w") as f:
        f.write("scheduled_s,sent_s,latency_s,status\n")
        for r in rows:
            f.write(f"{r[0]:.6f},{r[1]:.6f},{r[2]:.6f},{r[3]}\n")
    ok = sum(1 for r in rows if r[3] == 200)
    lat = sorted(r[2] for r in rows if r[3] == 200) or [float("nan")]

    def p(q):
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1e3

    print(f"loadgen: {len(rows)} sent, {ok} ok, p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms")


if __name__ == "__main__":
    main()
