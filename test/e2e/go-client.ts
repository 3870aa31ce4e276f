/**
 * One request as Vault's Go API client sends it (External Secrets Operator and Vault Agent
 * both use it): the X-Vault-Request header, the token, JSON bodies.
 */
export async function goClientCall(
  baseUrl: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: replay assertions walk arbitrary JSON.
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${baseUrl}/v1/${path}`, {
    method,
    headers: {
      "X-Vault-Request": "true",
      ...(token ? { "X-Vault-Token": token } : {}),
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
