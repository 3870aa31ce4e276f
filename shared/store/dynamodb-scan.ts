/**
 * A whole-table scan of a DynamoDB store, for operator commands (export). Kept apart from
 * dynamodb.ts so the functions' bundles hold no ScanCommand: their roles may not scan, and
 * a build test matches the commands a bundle sends with the permissions its role has.
 * Strongly consistent, like every read of the store.
 */
import { type DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { fromBase64Url, toBase64Url } from "../crypto/encoding.ts";
import { invalidRequest } from "../errors.ts";
import { fromRecord } from "./dynamodb.ts";
import type { ItemScanner, QueryPage } from "./item-store.ts";

const utf8 = new TextEncoder();

export function createDynamoDbScanner(options: { client: DynamoDBClient; tableName: string }): ItemScanner {
  return {
    async scan(input): Promise<QueryPage> {
      const output = await options.client.send(
        new ScanCommand({
          TableName: options.tableName,
          ConsistentRead: true,
          Limit: input.limit,
          ExclusiveStartKey: input.cursor === undefined ? undefined : decodeCursor(input.cursor),
        }),
      );
      const items = (output.Items ?? []).map(fromRecord);
      const last = output.LastEvaluatedKey;
      if (!last) return { items };
      return { items, cursor: toBase64Url(utf8.encode(JSON.stringify([last.pk?.S, last.sk?.S]))) };
    },
  };
}

function decodeCursor(cursor: string) {
  try {
    const [pk, sk] = JSON.parse(new TextDecoder().decode(fromBase64Url(cursor)));
    if (typeof pk === "string" && typeof sk === "string") return { pk: { S: pk }, sk: { S: sk } };
  } catch {
    // Reported below.
  }
  throw invalidRequest("the cursor is not one this store returned for a scan");
}
