import type { Progress, ProgressStep } from "../core/progress.js";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Renders progress on stderr. On a terminal, the running step redraws in place with a spinner,
 * its detail and elapsed time; elsewhere (CI, pipes) each step prints a start and an end line.
 */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = stream.isTTY === true;
  return {
    info(message) {
      stream.write(`${message}\n`);
    },
    step(label, startedAt): ProgressStep {
      const start = startedAt ?? Date.now();
      let detail = "";
      let frame = 0;
      let timer: NodeJS.Timeout | undefined;
      let lastPrinted = 0;
      const draw = () => {
        stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${label}${detail ? ` — ${detail}` : ""} (${secs(Date.now() - start)})`);
      };
      if (tty) {
        draw();
        timer = setInterval(draw, 100);
      } else {
        stream.write(`… ${label}\n`);
      }
      const end = (mark: string, note?: string, endedAt = Date.now()) => {
        if (timer) clearInterval(timer);
        const line = `${mark} ${label}${note ? ` — ${note}` : ""} (${secs(endedAt - start)})`;
        stream.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
      };
      return {
        update(d) {
          detail = d;
          // Without a terminal to redraw, a line at most every 2 s keeps logs readable.
          if (!tty && Date.now() - lastPrinted >= 2000) {
            lastPrinted = Date.now();
            stream.write(`  ${d}\n`);
          }
        },
        done: (note, endedAt) => end("✓", note, endedAt),
        fail: (note, endedAt) => end("✗", note, endedAt),
      };
    },
  };
}
