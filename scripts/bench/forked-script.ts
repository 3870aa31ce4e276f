/**
 * The benchmark's helper processes (servers, the load generator, the DynamoDB echo): a
 * script of this directory forked with the same loader, spoken to over IPC. Each sends one
 * message when ready and answers one message per question.
 */
import { type ChildProcess, fork } from "node:child_process";

/** Forks a script of this directory and waits for its first message. */
export async function forkScript(
  script: string,
  args: string[] = [],
): Promise<{ child: ChildProcess; first: unknown }> {
  const child = fork(new URL(script, import.meta.url).pathname, args, {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const first = await nextMessage(child);
  return { child, first };
}

export function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`${child.spawnargs.join(" ")} exited with ${code}`));
    child.once("exit", onExit);
    child.once("message", (message) => {
      child.off("exit", onExit);
      resolve(message as T);
    });
  });
}

export async function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  const answer = nextMessage<T>(child);
  child.send(message as string);
  return answer;
}

/** Asks each child still running to stop, and waits until it has. */
export async function stopAll(children: readonly ChildProcess[]): Promise<void> {
  for (const child of children) {
    if (child.exitCode === null) child.send("stop");
  }
  await Promise.all(
    children.map((child) =>
      child.exitCode === null ? new Promise((resolve) => child.once("exit", resolve)) : undefined,
    ),
  );
}
