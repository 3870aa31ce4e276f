/**
 * Tracing with AWS X-Ray through Powertools' Tracer, under Lambda's active tracing: each
 * AWS SDK client's calls become subsegments of the invocation's segment (DynamoDB, KMS,
 * STS, IAM, with the operation, the AWS request id and the table or key, never the
 * payload), and each use of a PostgreSQL connection one subsegment named for the
 * service. A failure marks the subsegment as such without its message, which may hold a
 * secret. Loaded only when tracing is on (functions/tracing.ts).
 */
import { Tracer } from "@aws-lambda-powertools/tracer";
import type { Tracing } from "../shared/tracing.ts";

export function xrayTracing(serviceName: string): Tracing {
  // HTTP calls other than the SDK's (JWKS fetches) are not traced: only the services named.
  const tracer = new Tracer({ serviceName, captureHTTPsRequests: false });
  // The warm-up calls KMS and DynamoDB during the initialization, which has no segment to
  // attach to: those calls go untraced instead of logging an error each.
  tracer.provider.setContextMissingStrategy("IGNORE_ERROR");
  return {
    awsClient: (client) => tracer.captureAWSv3Client(client),
    async call(service, work) {
      const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
      if (parent === undefined) return work();
      const subsegment = parent.addNewSubsegment(service);
      subsegment.namespace = "remote";
      try {
        return await work();
      } catch (error) {
        subsegment.addFaultFlag();
        throw error;
      } finally {
        subsegment.close();
      }
    },
  };
}
