import { createInterface } from "node:readline/promises";
import { TuskError } from "../core/errors.js";

/**
 * Asks the user to type `word` before a destructive command goes on. Without a terminal to ask on,
 * it refuses (exit code Aborted) and names the flag that confirms without a prompt.
 */
export async function confirmOrAbort(question: string, word: string, refusal: string, yesFlag: string): Promise<void> {
  if (!process.stdin.isTTY) {
    throw new TuskError("Aborted", refusal, { hint: `Add ${yesFlag} to confirm without a prompt.` });
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`${question} Type "${word}" to confirm: `);
  rl.close();
  if (answer.trim() !== word) {
    throw new TuskError("Aborted", "Not confirmed; nothing was changed.", { hint: `Type "${word}" at the prompt, or pass ${yesFlag}.` });
  }
}
