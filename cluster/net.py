"""Hosts on one machine: each a network namespace (`ip netns`) with one veth into a bridge
that lives in a namespace of its own (the "switch"), on a private /24. Nothing is added to
the machine's own namespace, and `teardown` removes every namespace it made (their
interfaces go with them)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field

PREFIX = "trk-"  # every namespace made here is named so; teardown removes them all
SUBNET = "10.77.0"
SWITCH = f"{PREFIX}sw"


def ip(*args: str, namespace: str | None = None, check: bool = True) -> str:
    command = ["ip", *(("-n", namespace) if namespace else ()), *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {done.stderr.strip()}")
    return done.stdout


@dataclass
class Host:
    name: str  # the namespace: trk-<name>
    address: str

    @property
    def namespace(self) -> str:
        return PREFIX + self.name

    @property
    def prefix(self) -> tuple[str, ...]:
        """What runs a command on this host."""
        return ("ip", "netns", "exec", self.namespace)


@dataclass
class Network:
    hosts: dict[str, Host] = field(default_factory=dict)

    def add(self, name: str, last_octet: int) -> Host:
        """A new host `name` at 10.77.0.<last_octet>, linked to the switch."""
        host = Host(name, f"{SUBNET}.{last_octet}")
        ip("netns", "add", host.namespace)
        ip("link", "set", "lo", "up", namespace=host.namespace)
        inside, outside = f"eth-{name}"[:15], f"p-{name}"[:15]
        ip("link", "add", inside, "netns", host.namespace, "type", "veth",
           "peer", "name", outside, "netns", SWITCH)
        ip("addr", "add", f"{host.address}/24", "dev", inside, namespace=host.namespace)
        ip("link", "set", inside, "up", namespace=host.namespace)
        ip("link", "set", outside, "master", "br0", "up", namespace=SWITCH)
        self.hosts[name] = host
        return host

    def unplug(self, name: str) -> None:
        """Take the host off the network (its link down): a host that vanished."""
        ip("link", "set", f"eth-{name}"[:15], "down", namespace=self.hosts[name].namespace)


def build() -> Network:
    teardown()
    ip("netns", "add", SWITCH)
    ip("link", "add", "br0", "type", "bridge", namespace=SWITCH)
    ip("link", "set", "br0", "up", namespace=SWITCH)
    return Network()


def teardown() -> None:
    """Remove every namespace this module makes (left over from an earlier run too)."""
    for line in ip("netns", "list", check=False).splitlines():
        name = line.split()[0] if line.strip() else ""
        if name.startswith(PREFIX):
            pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True,
                                  text=True).stdout.split()
            for pid in pids:
                subprocess.run(["kill", "-9", pid], capture_output=True)
            ip("netns", "del", name, check=False)
