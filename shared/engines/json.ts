/** A JSON object as a request carries it and a response answers it. */
export type JsonObject = { [key: string]: unknown };
