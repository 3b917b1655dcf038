import { readHostFacts } from "../config/host-facts.js";
import { TuskError } from "../errors.js";

/** Room for the restored data (WAL replay and a checkpoint add to its size) plus a working margin. */
export function restoreBytesNeeded(dataBytes: number): number {
  return Math.ceil(dataBytes * 1.2 + 512 * 1024 ** 2);
}

/**
 * Refuses a restore, before anything is written, when the filesystem holding `dir` has less free
 * space than the restored data needs: a restore that fills the disk half-way helps no one.
 */
export function ensureRestoreSpace(dir: string, dataBytes: number, untouched: string): void {
  const free = readHostFacts(dir).diskFreeBytes;
  const needed = restoreBytesNeeded(dataBytes);
  if (free < needed) {
    throw new TuskError("InsufficientResources", `A restore needs about ${Math.ceil(needed / 1024 ** 2)} MB but only ${Math.floor(free / 1024 ** 2)} MB is free at ${dir}.`, {
      hint: `Free some space and try again; ${untouched} is untouched.`,
    });
  }
}
