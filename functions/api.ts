/**
 * The API function: the broker's HTTP app behind a Lambda Function URL or API Gateway.
 * The broker is built once per execution environment and reused by every invocation.
 */
import { handle } from "hono/aws-lambda";
import { createApp } from "../shared/app.ts";
import type { Broker } from "../shared/broker.ts";
import { ENGINES } from "../shared/engines/registry.ts";
import { awsConfigFromEnv, createAwsBroker } from "./aws-broker.ts";

/** Longest the function's initialization waits for the warm-up below. */
const WARM_UP_BUDGET_MS = 2_000;

/**
 * Does, at initialization and all at once, what the first request would otherwise do one
 * after another: unwrap keyring version 1 (token and audit hashes and item MACs need it),
 * read the mount table, and load the code of the engines nearly every request meets. A
 * failure here costs nothing: the request that needs the piece tries again.
 */
async function warmUp(broker: Broker): Promise<void> {
  const work = Promise.allSettled([
    broker.keyring.get(1),
    broker.mounts.list(),
    ENGINES.kv?.(),
    ENGINES.token?.(),
  ]);
  await Promise.race([work, new Promise((resolve) => setTimeout(resolve, WARM_UP_BUDGET_MS).unref())]);
}

const broker = await createAwsBroker(awsConfigFromEnv());
await warmUp(broker);

const app = createApp(broker, {
  // Function URL and HTTP API events carry the path as sent in rawPath; REST API events in path.
  rawPath: (env) => {
    const event = (env as { event?: { rawPath?: string; path?: string } } | undefined)?.event;
    return event?.rawPath ?? event?.path;
  },
});

export const handler = handle(app);
