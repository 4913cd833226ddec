"""One service of the application: an aiohttp server, a RabbitMQ consumer, or both.

What it does comes from topology.json: each endpoint's steps run in order;
`work` sleeps a draw from its distribution (the handler's exclusive work),
`call` awaits an HTTP GET to another service (drawn per request when it has a
probability), `parallel` awaits its calls together (asyncio.gather), and
`publish` sends one message to a fanout exchange. A consumer runs its steps per
message. Every draw comes from a random.Random seeded by (seed, service,
endpoint, purpose), so adding a service changes nobody else's draws.

Instrumented with the OpenTelemetry aiohttp server, aiohttp client and aio-pika
instrumentations; telemetry.py sets up the exporters. Listens on 127.0.0.1
only. SIGTERM stops it: it then exports the spans it holds and exits.

    python -m meshapp.service --name NAME --ports '{"gateway": 8080, ...}'
        --amqp amqp://guest:guest@127.0.0.1:PORT/ --out DIR --collector URL
"""

import argparse
import asyncio
import json
import random
import resource
import signal
from pathlib import Path

from .topology import load, split_target


def _instrument(server=True):
    # Before any web.Application or ClientSession is made: the server
    # instrumentation replaces web.Application, the client one wraps ClientSession.
    # Testbed services (testbed_service.py) make their SERVER spans themselves.
    from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor

    if server:
        AioHttpServerInstrumentor().instrument()
    AioHttpClientInstrumentor().instrument()
    AioPikaInstrumentor().instrument()


class Runner:
    """Runs one handler's steps; owns the HTTP client and the exchanges."""

    def __init__(self, name, topo, ports, session, channel):
        self.name, self.topo, self.ports = name, topo, ports
        self.session, self.channel = session, channel
        self.exchanges = {}

    async def declare(self, topic):
        import aio_pika

        if topic not in self.exchanges:
            self.exchanges[topic] = await self.channel.declare_exchange(
                topic, aio_pika.ExchangeType.FANOUT
            )
        return self.exchanges[topic]

    def rngs(self, where, steps):
        """One stream per purpose: the work draws and each optional call's coin."""
        seed = self.topo.seed
        streams = {"work": random.Random(f"{seed}/{self.name}/{where}/work")}
        for i, s in enumerate(steps):
            if s.kind == "call" and s.probability < 1.0:
                streams[i] = random.Random(f"{seed}/{self.name}/{where}/branch/{i}")
        return streams

    async def run(self, steps, rngs):
        for i, step in enumerate(steps):
            if step.kind == "call" and step.probability < 1.0:
                if rngs[i].random() >= step.probability:
                    continue
            await self.step(step, rngs)

    async def step(self, step, rngs):
        if step.kind == "work":
            await asyncio.sleep(step.work.draw(rngs["work"]))
        elif step.kind == "call":
            service, method, path = split_target(step.target)
            url = f"http://127.0.0.1:{self.ports[service]}{path}"
            async with self.session.request(method, url) as resp:
                await resp.read()
                if resp.status >= 400:
                    raise RuntimeError(f"{step.target} answered {resp.status}")
        elif step.kind == "parallel":
            await asyncio.gather(*(self.step(b, rngs) for b in step.branches))
        elif step.kind == "publish":
            import aio_pika

            exchange = await self.declare(step.target)
            message = aio_pika.Message(b'{"order": 1}', headers={}, content_type="application/json")
            await exchange.publish(message, routing_key="")


async def serve(args):
    import aio_pika
    import aiohttp
    from aiohttp import web

    from . import telemetry

    topo = load(args.topology) if args.topology else load()
    ports = json.loads(args.ports)
    otlp = args.out / f"otlp-{args.name}.jsonl"
    provider = telemetry.setup(args.name, otlp, None if args.testbed else args.collector)
    _instrument(server=not args.testbed)

    mine = [s for (svc, _), steps in topo.endpoints.items() if svc == args.name for s in steps]
    uses_amqp = any(s.kind == "publish" for s in mine) or any(
        svc == args.name for svc, _ in topo.consumers
    )
    connection = channel = None
    if uses_amqp:
        connection = await aio_pika.connect_robust(args.amqp)
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=args.prefetch)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.connections))
    if args.testbed:
        from . import testbed_service as tb

        workers = asyncio.Semaphore(args.concurrency)
        runner = tb.TestbedRunner(args.name, topo, ports, session, channel, cpu=args.cpu,
                                  factor=args.work_factor, add_s=args.work_add_ms / 1e3)
    else:
        runner = Runner(args.name, topo, ports, session, channel)

    site_runner = None
    routes = [(route, steps) for (svc, route), steps in topo.endpoints.items() if svc == args.name]
    if routes:
        app = web.Application()
        for route, steps in routes:
            h = tb.handler(runner, route, steps, workers) if args.testbed else _handler(
                runner, route, steps)
            app.router.add_route(*route.split(" ", 1), h)
        site_runner = web.AppRunner(app, access_log=None)
        await site_runner.setup()
        await web.TCPSite(site_runner, "127.0.0.1", args.port or ports[args.name]).start()

    for (svc, topic), steps in topo.consumers.items():
        if svc == args.name and args.testbed:
            await tb.consume(runner, channel, svc, topic, steps, args.lag_log)
        elif svc == args.name:
            exchange = await runner.declare(topic)
            queue = await channel.declare_queue(f"{topic}.{svc}")
            await queue.bind(exchange)
            await queue.consume(_consumer(runner, topic, steps))
    for s in mine:
        if s.kind == "publish":
            await runner.declare(s.target)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    (args.out / f"{args.name}.ready").write_text("ready\n")
    await stop.wait()

    if site_runner:
        await site_runner.cleanup()
    await asyncio.sleep(0.5)  # let in-flight consumer handlings end
    await session.close()
    if connection:
        await connection.close()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(f"{args.name}: {cpu.ru_utime + cpu.ru_stime:.1f} s of CPU while serving", flush=True)
    provider.shutdown()  # exports the spans held in memory through the three exporters


def _handler(runner, route, steps):
    from aiohttp import web

    rngs = runner.rngs(route, steps)

    async def handle(request):
        try:
            await runner.run(steps, rngs)
        except Exception as e:  # a failed call is this request's failure, not the server's
            return web.json_response({"error": str(e)}, status=502)
        return web.json_response({"ok": True})

    return handle


def _consumer(runner, topic, steps):
    rngs = runner.rngs(f"consume/{topic}", steps)

    async def on_message(message):
        async with message.process():
            await runner.run(steps, rngs)

    return on_message


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--ports", required=True, help="JSON object: service -> port")
    ap.add_argument("--amqp", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--collector", required=True)
    ap.add_argument("--topology", type=Path)
    ap.add_argument("--prefetch", type=int, default=64)
    ap.add_argument("--connections", type=int, default=100)
    tb = ap.add_argument_group("testbed (testbed_service.py)")
    tb.add_argument("--testbed", action="store_true", help="worker pool, own SERVER spans, OTLP only")
    tb.add_argument("--concurrency", type=int, default=1, help="workers per replica")
    tb.add_argument("--port", type=int, help="listen here instead of --ports' entry (a replica)")
    tb.add_argument("--cpu", action="store_true", help="burn the work as CPU time")
    tb.add_argument("--work-factor", type=float, default=1.0, help="injected delay: work x this")
    tb.add_argument("--work-add-ms", type=float, default=0.0, help="injected delay: work + this")
    tb.add_argument("--lag-log", type=Path, help="consumers: a CSV line per handled message")
    args = ap.parse_args()
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
