/**
 * The shape of an HCL configuration as the agent reads it: a body of attributes and
 * blocks, each with the line and column it starts at. Vault Agent's HCL and its JSON form
 * both become this, so one reader checks both.
 */

export interface Place {
  line: number;
  column: number;
}

export type HclValue = string | number | boolean | null | HclValue[] | { [key: string]: HclValue };

export interface HclAttribute {
  name: string;
  value: HclValue;
  at?: Place;
}

export interface HclBlock {
  type: string;
  labels: string[];
  body: HclBody;
  at?: Place;
}

export interface HclBody {
  attributes: HclAttribute[];
  blocks: HclBlock[];
}

/** A configuration file that cannot be parsed, with where. */
export class HclSyntaxError extends Error {
  override readonly name = "HclSyntaxError";
  constructor(
    readonly at: Place,
    readonly reason: string,
  ) {
    super(`line ${at.line}, column ${at.column}: ${reason}`);
  }
}
