/**
 * Go's fmt.Sprintf for the verbs templates use: %v %s %d %q %t %x %X %o %b %f %e %g %c
 * and %%, with flags (-, +, 0, space), width and precision. A verb that does not fit its
 * argument prints as Go does, e.g. "%!d(string=abc)", rather than failing the render.
 */
import { isNoValue, printValue, typeName } from "./go-values.ts";

interface Spec {
  minus: boolean;
  plus: boolean;
  zero: boolean;
  space: boolean;
  width?: number;
  precision?: number;
}

function pad(text: string, spec: Spec, numeric: boolean): string {
  const width = spec.width ?? 0;
  if (text.length >= width) return text;
  if (spec.minus) return text.padEnd(width, " ");
  if (spec.zero && numeric) {
    const sign = /^[+ -]/.test(text) ? (text[0] as string) : "";
    return sign + text.slice(sign.length).padStart(width - sign.length, "0");
  }
  return text.padStart(width, " ");
}

function signed(text: string, negative: boolean, spec: Spec): string {
  if (negative) return `-${text}`;
  if (spec.plus) return `+${text}`;
  if (spec.space) return ` ${text}`;
  return text;
}

/** Go's strconv.Quote, for %q of a string: JSON's escaping is the same for printable text. */
function quote(text: string): string {
  return JSON.stringify(text)
    .replace(/\\u007f/g, "\\x7f")
    .replace(/\\u00([0-1][0-9a-f])/g, "\\x$1");
}

function badVerb(verb: string, value: unknown): string {
  if (isNoValue(value) || value === null || value === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(value)}=${printValue(value)})`;
}

function formatOne(verb: string, spec: Spec, value: unknown): string {
  switch (verb) {
    case "v":
      if (typeof value === "number") return formatOne(Number.isInteger(value) ? "d" : "g", spec, value);
      return pad(printValue(value), spec, false);
    case "s": {
      if (typeof value !== "string" && (typeof value !== "object" || value === null)) {
        return typeof value === "number" || typeof value === "boolean"
          ? badVerb(verb, value)
          : pad(printValue(value), spec, false);
      }
      const text = printValue(value);
      return pad(
        spec.precision === undefined ? text : [...text].slice(0, spec.precision).join(""),
        spec,
        false,
      );
    }
    case "q":
      if (typeof value !== "string") return badVerb(verb, value);
      return pad(quote(value), spec, false);
    case "t":
      if (typeof value !== "boolean") return badVerb(verb, value);
      return pad(String(value), spec, false);
    case "d":
    case "x":
    case "X":
    case "o":
    case "b": {
      if ((verb === "x" || verb === "X") && typeof value === "string") {
        const hex = Buffer.from(value, "utf8").toString("hex");
        return pad(verb === "X" ? hex.toUpperCase() : hex, spec, false);
      }
      if (typeof value !== "number" || !Number.isInteger(value)) return badVerb(verb, value);
      const radix = { d: 10, x: 16, X: 16, o: 8, b: 2 }[verb];
      let digits = Math.abs(value).toString(radix);
      if (verb === "X") digits = digits.toUpperCase();
      if (spec.precision !== undefined) digits = digits.padStart(spec.precision, "0");
      return pad(signed(digits, value < 0, spec), spec, true);
    }
    case "c":
      if (typeof value !== "number" || !Number.isInteger(value)) return badVerb(verb, value);
      return pad(String.fromCodePoint(value), spec, false);
    case "f":
    case "F":
    case "e":
    case "g": {
      if (typeof value !== "number") return badVerb(verb, value);
      const magnitude = Math.abs(value);
      let text: string;
      if (verb === "e") {
        text = magnitude.toExponential(spec.precision ?? 6).replace(/e([+-])(\d)$/, "e$10$2");
      } else if (verb === "g") {
        text =
          spec.precision === undefined
            ? printValue(magnitude)
            : String(Number(magnitude.toPrecision(spec.precision)));
      } else {
        text = magnitude.toFixed(spec.precision ?? 6);
      }
      return pad(signed(text, value < 0 || Object.is(value, -0), spec), spec, true);
    }
    default:
      return `%!${verb}(${typeName(value)}=${printValue(value)})`;
  }
}

export function sprintf(format: string, args: readonly unknown[]): string {
  let out = "";
  let argument = 0;
  const pattern = /%([-+0 #]*)(\d+|\*)?(?:\.(\d+|\*)?)?(.)?/gy;
  let i = 0;
  while (i < format.length) {
    const percent = format.indexOf("%", i);
    if (percent === -1) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, percent);
    pattern.lastIndex = percent;
    const match = pattern.exec(format) as RegExpExecArray;
    const [whole, flags = "", widthText, precisionText, verb] = match;
    i = percent + whole.length;
    if (verb === undefined) {
      out += "%!(NOVERB)";
      break;
    }
    if (verb === "%") {
      out += "%";
      continue;
    }
    const takeNumber = (text: string | undefined): number | undefined => {
      if (text === undefined) return undefined;
      if (text !== "*") return Number(text);
      const value = args[argument++];
      return typeof value === "number" ? value : undefined;
    };
    const spec: Spec = {
      minus: flags.includes("-"),
      plus: flags.includes("+"),
      zero: flags.includes("0"),
      space: flags.includes(" "),
      width: takeNumber(widthText),
      precision: precisionText === undefined && whole.includes(".") ? 0 : takeNumber(precisionText),
    };
    if (argument >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatOne(verb, spec, args[argument++]);
  }
  if (argument < args.length) {
    const extra = args.slice(argument).map((value) => `${typeName(value)}=${printValue(value)}`);
    out += `%!(EXTRA ${extra.join(", ")})`;
  }
  return out;
}
