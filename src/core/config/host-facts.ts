import { availableParallelism, totalmem } from "node:os";
import { existsSync, readFileSync, statfsSync, statSync, realpathSync } from "node:fs";
import { dirname } from "node:path";

/** What the tuner and the preflight checks know about the machine. */
export interface HostFacts {
  memoryBytes: number;
  cores: number;
  /** Whether the state directory's block device is solid-state, and why tusk thinks so. */
  ssd: boolean;
  storageWhy: string;
  diskFreeBytes: number;
}

export interface StorageFacts {
  ssd: boolean;
  /** Why tusk believes so, shown next to the settings that depend on it. */
  why: string;
}

/**
 * Whether the block device holding `path` is solid-state. NVMe and non-rotational devices are SSDs.
 * Virtual disks (virtio, Xen) report rotational=1 whatever backs them; cloud volumes are SSD-backed,
 * so tusk treats them as SSD. An unknown device is assumed to be an SSD, the common case.
 */
export function detectStorage(path: string): StorageFacts {
  try {
    const dev = statSync(path).dev;
    const major = Math.floor(dev / 256) & 0xfff;
    const minor = (dev & 0xff) | (Math.floor(dev / 1048576) & 0xfff00);
    const base = `/sys/dev/block/${major}:${minor}`;
    if (!existsSync(base)) return { ssd: true, why: "device not found in sysfs; assuming SSD" };
    let real = realpathSync(base);
    if (!existsSync(`${real}/queue`) && existsSync(`${real}/../queue`)) real = realpathSync(`${real}/..`); // a partition
    const name = real.split("/").pop() ?? "";
    if (name.startsWith("nvme")) return { ssd: true, why: `${name} is NVMe` };
    if (/\/virtio\d+\//.test(real) || /^(vd|xvd)/.test(name)) return { ssd: true, why: `${name} is a virtual disk (its rotational flag is not meaningful); cloud volumes are SSD-backed` };
    const rotational = existsSync(`${real}/queue/rotational`) ? readFileSync(`${real}/queue/rotational`, "utf8").trim() === "1" : false;
    return rotational ? { ssd: false, why: `${name} reports a rotational disk` } : { ssd: true, why: `${name} reports non-rotational` };
  } catch {
    return { ssd: true, why: "device unknown; assuming SSD" };
  }
}

/** The path itself if it exists, else its nearest existing ancestor (the filesystem it will be on). */
export function existingAncestor(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

/** Reads the host's facts for data that will live at `path` (which need not exist yet). */
export function readHostFacts(path: string): HostFacts {
  const probe = existingAncestor(path);
  const fs = statfsSync(probe);
  const storage = detectStorage(probe);
  return {
    memoryBytes: totalmem(),
    cores: availableParallelism(),
    ssd: storage.ssd,
    storageWhy: storage.why,
    diskFreeBytes: fs.bavail * fs.bsize,
  };
}
