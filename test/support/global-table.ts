/**
 * Two regions of a DynamoDB global table on one moto_server (it keeps each region's tables
 * apart), and what the global table's replication does, done when a test says so: the
 * test decides what has replicated, where DynamoDB would take about a second.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";

export interface RegionalTable {
  client: DynamoDBClient;
  tableName: string;
}

/** Every item of a regional table, raw, keyed by pk and sk. */
export async function tableItems(table: RegionalTable): Promise<Map<string, Record<string, AttributeValue>>> {
  const items = new Map<string, Record<string, AttributeValue>>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await table.client.send(
      new ScanCommand({ TableName: table.tableName, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    for (const item of page.Items ?? []) items.set(JSON.stringify([item.pk?.S, item.sk?.S]), item);
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Makes `to` hold exactly what `from` holds, as replication does once it has caught up. */
export async function replicate(from: RegionalTable, to: RegionalTable): Promise<void> {
  const [source, target] = await Promise.all([tableItems(from), tableItems(to)]);
  for (const item of source.values()) {
    await to.client.send(new PutItemCommand({ TableName: to.tableName, Item: item }));
  }
  for (const [id, item] of target) {
    if (source.has(id)) continue;
    await to.client.send(
      new DeleteItemCommand({ TableName: to.tableName, Key: { pk: item.pk!, sk: item.sk! } }),
    );
  }
}
