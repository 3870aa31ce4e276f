/**
 * How the broker's calls to other services are traced, handed in by the edge that runs it
 * (functions/tracing.ts on Lambda with X-Ray) and passed to the engines in their context:
 * the core never loads a tracer. Without one, nothing is traced and nothing is paid.
 *
 * A trace records which service was called, how long it took and whether it failed:
 * never a call's arguments, its answer or an error's text, which may hold secrets (a
 * database password in a failed statement, credentials in an STS answer).
 */
export interface Tracing {
  /** The same AWS SDK client, its every call recorded. */
  awsClient<Client extends object>(client: Client): Client;
  /** Runs `work`, recorded as one call to `service` (such as "PostgreSQL"). */
  call<T>(service: string, work: () => Promise<T>): Promise<T>;
}

export const noTracing: Tracing = {
  awsClient: (client) => client,
  call: (_service, work) => work(),
};
