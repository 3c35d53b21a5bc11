/**
 * A JSON writer that reproduces the bytes fastjson 1.x writes on a real base (koupleless-protocol.md §1.4),
 * so the simulated base and the golden tests can compare byte for byte:
 * - compact, object keys sorted by Java `String.compareTo` (UTF-16 code units: `"count"` < `"free (%)"`,
 *   `"java committed metaspace"` < `"max heap memory(M)"`);
 * - null and undefined fields omitted, unless `writeNulls` (fastjson's WriteMapNullValue) is on; null array
 *   items are always written;
 * - integers as Java longs, other numbers as Java's `Double.toString` (`81.4`, `1.0E7`); a double whose value
 *   is integral must be wrapped in {@link JavaDouble} to print as `885.0`;
 * - `Date` as epoch milliseconds; strings escaped as fastjson escapes them.
 */

/** A Java double. Only needed for integral values, which JS numbers cannot tell apart from longs. */
export class JavaDouble {
  readonly value: number;

  constructor(value: number) {
    this.value = value;
  }
}

export function javaDouble(value: number): JavaDouble {
  return new JavaDouble(value);
}

export interface FastjsonOptions {
  /** fastjson's WriteMapNullValue: write `"key":null` instead of omitting the key. */
  readonly writeNulls?: boolean;
}

export function toFastjson(value: unknown, options: FastjsonOptions = {}): string {
  const out: string[] = [];
  writeValue(value, options.writeNulls ?? false, out);
  return out.join('');
}

function writeValue(value: unknown, writeNulls: boolean, out: string[]): void {
  if (value === null || value === undefined) {
    out.push('null');
  } else if (typeof value === 'string') {
    out.push(quote(value));
  } else if (typeof value === 'number') {
    out.push(Number.isInteger(value) ? String(value) : javaDoubleToString(value));
  } else if (typeof value === 'bigint') {
    out.push(value.toString());
  } else if (typeof value === 'boolean') {
    out.push(value ? 'true' : 'false');
  } else if (value instanceof JavaDouble) {
    out.push(javaDoubleToString(value.value));
  } else if (value instanceof Date) {
    out.push(String(value.getTime()));
  } else if (Array.isArray(value)) {
    writeArray(value, writeNulls, out);
  } else if (typeof value === 'object') {
    writeObject(value as Record<string, unknown>, writeNulls, out);
  } else {
    throw new TypeError(`fastjson cannot write a ${typeof value}`);
  }
}

function writeArray(items: readonly unknown[], writeNulls: boolean, out: string[]): void {
  out.push('[');
  items.forEach((item, index) => {
    if (index > 0) out.push(',');
    writeValue(item, writeNulls, out);
  });
  out.push(']');
}

function writeObject(object: Record<string, unknown>, writeNulls: boolean, out: string[]): void {
  // `<` on strings compares UTF-16 code units, which is exactly Java's String.compareTo order.
  const keys = Object.keys(object).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  out.push('{');
  let first = true;
  for (const key of keys) {
    const field = object[key];
    if (field === undefined || (field === null && !writeNulls)) continue;
    if (!first) out.push(',');
    first = false;
    out.push(quote(key), ':');
    writeValue(field, writeNulls, out);
  }
  out.push('}');
}

/**
 * Java's `Double.toString` on the shortest round-trip digits (fastjson 1.2 uses Ryu, which prints those):
 * plain notation with at least one fraction digit for 1e-3 ≤ |x| < 1e7, `d.dddE<exp>` otherwise.
 * NaN and infinities are written as null, as fastjson does.
 */
export function javaDoubleToString(value: number): string {
  if (!Number.isFinite(value)) return 'null';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const sign = value < 0 ? '-' : '';
  const [mantissa = '', exponentText = '0'] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    if (exponent >= 0) {
      const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
      const fraction = digits.slice(exponent + 1);
      return `${sign}${whole}.${fraction === '' ? '0' : fraction}`;
    }
    return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  }
  const fraction = digits.slice(1);
  return `${sign}${digits.slice(0, 1)}.${fraction === '' ? '0' : fraction}E${exponent}`;
}

const SHORT_ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x08, '\\b'],
  [0x09, '\\t'],
  [0x0a, '\\n'],
  [0x0c, '\\f'],
  [0x0d, '\\r'],
  [0x22, '\\"'],
  [0x5c, '\\\\'],
]);

/** fastjson's escaping: control characters, DEL..0x9F and U+2028 as upper-case `\uXXXX`; `/` is left alone. */
function quote(text: string): string {
  let result = '"';
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    const short = SHORT_ESCAPES.get(code);
    if (short !== undefined) {
      result += short;
    } else if (code < 0x20 || (code >= 0x7f && code < 0xa0) || code === 0x2028) {
      result += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    } else {
      result += text[index] ?? '';
    }
  }
  return `${result}"`;
}
