import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A test host: its network namespace, its address, and the command prefix that runs a program on it. */
export interface TestHost {
  netns: string;
  address: string;
  /** `nsenter` into the host's network namespace (and its mount namespace, when it has private directories). */
  via: string[];
}

/**
 * Test hosts: network namespaces on one isolated bridge, addresses from 198.18.0.0/15 (reserved for
 * benchmarking, never routed). The bridge holds .254 so the test process itself reaches every host;
 * a host's link down is a lost or partitioned host. Names carry the test's PID, and `create` first
 * removes what a killed run with the same name left. `destroy` removes every namespace and link it
 * made (a namespace's veth end goes with it); processes must be stopped before.
 */
export class TestNetwork {
  private readonly hosts: string[] = [];

  private constructor(
    readonly tag: string,
    readonly subnet: string,
  ) {}

  get bridge(): string {
    return `${this.tag}br`;
  }

  /** The address of the test process on the bridge. */
  get gateway(): string {
    return `${this.subnet}.254`;
  }

  static create(name: string, subnet = "198.18.0"): TestNetwork {
    const net = new TestNetwork(`t${name.slice(0, 3)}${process.pid % 100000}`, subnet);
    net.clean();
    ip("link", "add", net.bridge, "type", "bridge");
    ip("addr", "add", `${net.gateway}/24`, "dev", net.bridge);
    ip("link", "set", net.bridge, "up");
    return net;
  }

  /** Where the hosts' mount namespaces are kept (a private bind mount, so they can be pinned there). */
  private get mountDir(): string {
    return `/run/tusk-test-${this.tag}`;
  }

  /**
   * Host n: namespace `<tag>h<n>` with loopback up and `<subnet>.<n>` on a veth into the bridge.
   * Each directory of `privateDirs` (made empty here) gets a tmpfs in the host's own mount namespace:
   * what the host writes there, no other host (nor the test process) sees.
   */
  host(n: number, privateDirs: string[] = []): TestHost {
    const netns = `${this.tag}h${n}`;
    const outside = `${this.tag}v${n}`;
    const inside = `${this.tag}n${n}`;
    ip("netns", "add", netns);
    this.hosts.push(netns);
    ip("link", "add", outside, "type", "veth", "peer", "name", inside);
    ip("link", "set", outside, "master", this.bridge);
    ip("link", "set", outside, "up");
    ip("link", "set", inside, "netns", netns);
    ip("-n", netns, "addr", "add", `${this.subnet}.${n}/24`, "dev", inside);
    ip("-n", netns, "link", "set", inside, "up");
    ip("-n", netns, "link", "set", "lo", "up");
    const address = `${this.subnet}.${n}`;
    if (privateDirs.length === 0) return { netns, address, via: ["nsenter", `--net=/run/netns/${netns}`, "--"] };
    if (!existsSync(this.mountDir)) {
      mkdirSync(this.mountDir, { recursive: true });
      execFileSync("mount", ["--bind", this.mountDir, this.mountDir]);
      execFileSync("mount", ["--make-private", this.mountDir]);
    }
    const pin = join(this.mountDir, `${netns}.mnt`);
    writeFileSync(pin, "");
    for (const dir of privateDirs) mkdirSync(dir, { recursive: true });
    const mounts = privateDirs.map((d) => `mount -t tmpfs -o size=4g,mode=0755 tmpfs '${d}'`).join(" && ");
    execFileSync("unshare", [`--mount=${pin}`, "--propagation", "private", "sh", "-c", mounts]);
    return { netns, address, via: ["nsenter", `--mount=${pin}`, `--net=/run/netns/${netns}`, "--"] };
  }

  destroy(): void {
    this.clean();
  }

  private clean(): void {
    if (existsSync(this.mountDir)) {
      for (const line of spawnSync("sh", ["-c", `ls ${this.mountDir}`], { encoding: "utf8" })
        .stdout.split("\n")
        .filter(Boolean)) {
        spawnSync("umount", [join(this.mountDir, line)]);
      }
      spawnSync("umount", [this.mountDir]);
      rmSync(this.mountDir, { recursive: true, force: true });
    }
    const listed = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
    for (const line of listed.split("\n")) {
      const ns = line.split(" ")[0];
      if (ns?.startsWith(`${this.tag}h`)) spawnSync("ip", ["netns", "del", ns]);
    }
    spawnSync("ip", ["link", "del", this.bridge], { stdio: "ignore" });
  }
}

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}
