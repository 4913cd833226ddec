"""What a testbed service adds to a recorded one (service.py, `--testbed`).

- A fixed worker pool per replica: an asyncio.Semaphore of `concurrency`
  around each handler. The SERVER span starts once a worker is taken (as a
  Java agent's span starts when a pool thread runs the servlet), so the wait
  for a worker is queueing, outside the span, and `meshsim import` does not
  mistake it for work. The aiohttp server instrumentation would open its span
  before the wait; testbed services make their SERVER span themselves.
- Real CPU work (`cpu: true`): the drawn work is burned as CPU time
  (time.thread_time) in a busy loop. It runs in the event loop, so it holds the
  GIL: one process runs one CPU step at a time, on one core at most. The
  testbed pins that process to one core (taskset) and gives it concurrency 1:
  meshsim's `concurrency: 1, cores: 1`. Other processes on that core stretch
  the loop's wall time, which is the contention a real host has.
- An injected delay: every work draw x `--work-factor`, plus `--work-add-ms`.
- Consumers with manual acks (ack after the steps; a failure is rejected
  without requeue, so RabbitMQ dead-letters it to `TOPIC.dlx` -> queue
  `TOPIC.SERVICE.dlq`), prefetch = `--prefetch`, and a pause: SIGUSR1 cancels
  consuming, SIGUSR2 resumes it. Each handled message is logged as
  (published_at, done_at) in epoch seconds, so the lag can be measured from
  the consumer's own record.
"""

import asyncio
import signal
import time

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from .service import Runner

_TRACER = "meshapp.testbed"


def burn(seconds: float):
    """Spends `seconds` of this thread's CPU time (not wall time) in a busy loop."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


class TestbedRunner(Runner):
    def __init__(self, *a, cpu=False, factor=1.0, add_s=0.0):
        super().__init__(*a)
        self.cpu, self.factor, self.add_s = cpu, factor, add_s

    async def step(self, step, rngs):
        if step.kind == "work":
            d = step.work.draw(rngs["work"]) * self.factor + self.add_s
            if self.cpu:
                burn(d)
            else:
                await asyncio.sleep(d)
        elif step.kind == "publish":
            import aio_pika

            exchange = await self.declare(step.target)
            headers = {"published_at": repr(time.time())}
            msg = aio_pika.Message(b'{"order": 1}', headers=headers, content_type="application/json")
            await exchange.publish(msg, routing_key="")
        else:
            await super().step(step, rngs)


def handler(runner, route, steps, workers: asyncio.Semaphore):
    """The handler of one endpoint: take a worker, then a SERVER span around the steps."""
    from aiohttp import web

    method, path = route.split(" ", 1)
    rngs = runner.rngs(route, steps)
    tracer = trace.get_tracer(_TRACER)

    async def handle(request):
        async with workers:
            ctx = propagate.extract(dict(request.headers))
            attrs = {"http.method": method, "http.route": path, "http.target": path}
            with tracer.start_as_current_span(route, context=ctx, kind=SpanKind.SERVER,
                                              attributes=attrs) as span:
                status = 200
                try:
                    await runner.run(steps, rngs)
                except Exception:  # a failed call is this request's failure
                    status = 502
                span.set_attribute("http.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
        return web.json_response({"ok": status == 200}, status=status)

    return handle


async def consume(runner, channel, service, topic, steps, lag_log):
    """Consumes TOPIC's queue for SERVICE with manual acks, a DLX and a pause switch."""
    import aio_pika

    exchange = await runner.declare(topic)
    dlx = await channel.declare_exchange(f"{topic}.dlx", aio_pika.ExchangeType.FANOUT)
    dlq = await channel.declare_queue(f"{topic}.{service}.dlq")
    await dlq.bind(dlx)
    queue = await channel.declare_queue(
        f"{topic}.{service}", arguments={"x-dead-letter-exchange": f"{topic}.dlx"}
    )
    await queue.bind(exchange)
    rngs = runner.rngs(f"consume/{topic}", steps)
    log = open(lag_log, "a", buffering=1) if lag_log else None

    async def on_message(message):
        async with message.process(requeue=False):  # ack after the steps; reject -> DLX
            await runner.run(steps, rngs)
        if log:
            published = float((message.headers or {}).get("published_at", "nan"))
            log.write(f"{published:.6f},{time.time():.6f}\n")

    state = {"tag": await queue.consume(on_message)}

    async def pause():
        if state["tag"]:
            tag, state["tag"] = state["tag"], None
            await queue.cancel(tag)
            print(f"{service}: paused at {time.time():.3f}", flush=True)

    async def resume():
        if not state["tag"]:
            state["tag"] = await queue.consume(on_message)
            print(f"{service}: resumed at {time.time():.3f}", flush=True)

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, lambda: asyncio.ensure_future(pause()))
    loop.add_signal_handler(signal.SIGUSR2, lambda: asyncio.ensure_future(resume()))
    return queue
