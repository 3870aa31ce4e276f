import type { Process } from "../../support/deployment.ts";

/** Writes a version of secret/<path> through the API and returns its number. */
export async function put(kv: Process, path: string, data: Record<string, unknown>, cas?: number) {
  const reply = await kv.call(
    "POST",
    `secret/data/${path}`,
    cas === undefined ? { data } : { data, options: { cas } },
  );
  if (reply.status !== 200) throw new Error(`write failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.data.version as number;
}
