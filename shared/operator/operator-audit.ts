/**
 * Operator commands act on the store directly, not through the HTTP app, and are audited
 * as requests are: the request record first (if it cannot be written, nothing happens),
 * then the response record with the outcome. The caller is the operator, known only by
 * the AWS or file-system access the command ran with, so the records carry no token
 * accessor; `display_name` says which command it was.
 */
import type { Broker } from "../broker.ts";
import { toErrorReply } from "../http/errors.ts";

export interface OperatorAction {
  /** A sys/ path naming the action, as Vault would audit its HTTP equivalent. */
  path: string;
  operation: "update" | "read";
  /** What the operator asked for; strings are hashed in the record, as in every record. */
  requestData?: Record<string, unknown>;
}

export async function audited<T extends { responseData?: unknown }>(
  broker: Broker,
  action: OperatorAction,
  run: () => Promise<T>,
): Promise<T> {
  const record = await broker.audit.request({
    requestId: crypto.randomUUID(),
    operation: action.operation,
    path: action.path,
    displayName: "operator",
    requestData: action.requestData,
  });
  let result: T;
  try {
    result = await run();
  } catch (error) {
    const reply = toErrorReply(error);
    await record.response({ status: reply.status, error: reply.logMessage });
    throw error;
  }
  await record.response({ status: 200, responseData: result.responseData });
  return result;
}
