import { writeFileSync } from "node:fs";
import { Writer } from "../../src/core/failover/writer.js";

/**
 * A writer as its own process, for a test host in a network namespace (the test process cannot
 * enter one): commits a row every 10 ms through argv[2] into table argv[3]; on SIGTERM writes its
 * report (every acknowledged id, the errors, the longest gap between two commits) to argv[4].
 */
const [url, table, out] = process.argv.slice(2);
if (!url || !table || !out) throw new Error("usage: writer-main URL TABLE OUT");
const writer = new Writer(url, table, 5000);
process.on("SIGTERM", () => {
  void writer.stop().then((r) => {
    writeFileSync(out, JSON.stringify(r));
    process.exit(0);
  });
});
