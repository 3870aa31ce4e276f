/**
 * The one table (shared/store/dynamodb.ts): pk/sk strings, no secondary indexes because no
 * access pattern needs one yet, and TTL on the housekeeping attribute. sst.aws.Dynamo
 * always bills on demand and keeps point-in-time recovery on. Items are envelope-encrypted
 * by the broker, so the table keeps DynamoDB's default encryption at rest. With a second
 * region (region-settings.ts) it is a global table with a replica there, point-in-time
 * recovery on both.
 */
import { TTL_ATTRIBUTE } from "../shared/store/ttl.ts";
import type { StageSettings } from "./stage-settings.ts";

export function createStorage(settings: StageSettings) {
  return new sst.aws.Dynamo(
    "Table",
    {
      fields: { pk: "string", sk: "string" },
      primaryIndex: { hashKey: "pk", rangeKey: "sk" },
      ttl: TTL_ATTRIBUTE,
      // A global table replicates through the table's stream, which must carry both images.
      ...(settings.secondaryRegion !== undefined && { stream: "new-and-old-images" as const }),
      transform: {
        table: (args) => {
          args.deletionProtectionEnabled = settings.production;
          if (settings.secondaryRegion !== undefined) {
            args.replicas = [
              {
                regionName: settings.secondaryRegion,
                pointInTimeRecovery: true,
                deletionProtectionEnabled: settings.production,
              },
            ];
          }
        },
      },
    },
    // On production the table outlives the stack: `sst remove` or a bad refactor must not take the data.
    { retainOnDelete: settings.production },
  );
}
