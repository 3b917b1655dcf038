// Copies non-TypeScript assets (SQL files, dashboard files) from src/ into dist/src/ after tsc.
import { cpSync, readdirSync, statSync, mkdirSync } from "node:fs";
import { join, dirname } from "node:path";

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.(sql|json|html|css|svg)$/.test(name)) {
      const target = join("dist", path);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(path, target);
    }
  }
}
walk("src");
