import { readFileSync } from "node:fs";
import { TuskError } from "./errors.js";

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** Looks a user up in /etc/passwd (Debian's packages create postgres and etcd). */
export function lookupUser(name: string): OsUser | undefined {
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const f = line.split(":");
    if (f[0] === name && f.length >= 7) return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! };
  }
  return undefined;
}

/** The postgres OS user that runs PostgreSQL, Patroni and PgBouncer (PostgreSQL refuses root). */
export function postgresUser(): OsUser {
  const user = lookupUser("postgres");
  if (!user) {
    throw new TuskError("InstallFailed", "There is no postgres OS user, so PostgreSQL cannot run.", {
      hint: "Run tusk up as root: installing Debian's postgresql package creates it.",
    });
  }
  return user;
}

/** etcd runs as its own user when Debian's package made one, else as postgres. */
export function etcdUser(): OsUser {
  return lookupUser("etcd") ?? postgresUser();
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
