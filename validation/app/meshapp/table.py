"""Prints the README's table of coded exclusive work, computed from topology.json.

Each quantile is exact, from the distribution's parameters (dist.py), not
sampled.

    python -m meshapp.table
"""

from .topology import load


def rows(topo):
    for (service, route), steps in topo.endpoints.items():
        yield service, route, topo.work_of(steps)
    for (service, topic), steps in topo.consumers.items():
        yield service, f"consume `{topic}`", topo.work_of(steps)


def main():
    topo = load()
    print("| service | endpoint | exclusive work (coded) | p50 ms | p99 ms | mean ms |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    for service, where, d in rows(topo):
        p50, p99, mean = (x * 1e3 for x in (d.quantile(0.5), d.quantile(0.99), d.mean_s()))
        print(f"| {service} | {where} | `{d.describe()}` | {p50:.2f} | {p99:.2f} | {mean:.2f} |")


if __name__ == "__main__":
    main()
