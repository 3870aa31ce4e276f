/**
 * An error in a Go-syntax template, found when it is parsed or rendered, in the shape Go
 * gives it: `template: NAME:LINE:COLUMN: message`. It names the template and the place,
 * never a secret value.
 */
import { RenderError } from "../template.ts";

export class TemplateError extends RenderError {
  constructor(
    readonly template: string,
    readonly position: { line: number; column: number },
    readonly reason: string,
  ) {
    super(`template: ${template}:${position.line}:${position.column}: ${reason}`);
  }
}
