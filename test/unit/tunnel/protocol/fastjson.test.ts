import { describe, expect, it } from 'vitest';
import { javaDouble, javaDoubleToString, toFastjson } from '../../../../core/tunnel/protocol/fastjson.ts';
import { readProtocolExample } from '../../../support/protocol-examples.ts';

const GOLDEN_FILES = [
  'base-heart.json',
  'base-queryBaseline.json',
  'base-health.json',
  'base-simpleBiz.json',
  'base-bizOperation-install-success.json',
  'base-bizOperation-install-repeat.json',
  'base-batchInstallBizResponse.json',
  'baseline.json',
  'installBiz.json',
  'uninstallBiz.json',
];

describe('toFastjson', () => {
  it.each(GOLDEN_FILES)('writes %s back byte for byte from its parsed value', async (file) => {
    const golden = await readProtocolExample(file);
    const writeNulls = file === 'base-simpleBiz.json';
    expect(toFastjson(JSON.parse(golden), { writeNulls })).toBe(golden);
  });

  it('sorts keys by UTF-16 code units, as Java String.compareTo does', () => {
    const cpu = {
      'user used (%)': 1,
      type: 'x',
      'total used (%)': 2,
      'system used (%)': 3,
      'free (%)': 4,
      count: 5,
    };
    expect(Object.keys(JSON.parse(toFastjson(cpu)) as object)).toEqual([
      'count',
      'free (%)',
      'system used (%)',
      'total used (%)',
      'type',
      'user used (%)',
    ]);
    const jvm = { 'max heap memory(M)': 1, 'java committed metaspace': 2, 'java version': '17' };
    expect(toFastjson(jvm)).toBe('{"java committed metaspace":2,"java version":"17","max heap memory(M)":1}');
    // upper case sorts before lower case, and a prefix before its extensions
    expect(toFastjson({ b: 1, a: 2, B: 3, ab: 4, 'a b': 5 })).toBe('{"B":3,"a":2,"a b":5,"ab":4,"b":1}');
  });

  it('omits null and undefined fields unless WriteMapNullValue is on', () => {
    const value = { message: null, name: 'biz1', gone: undefined, nested: { x: null } };
    expect(toFastjson(value)).toBe('{"name":"biz1","nested":{}}');
    expect(toFastjson(value, { writeNulls: true })).toBe(
      '{"message":null,"name":"biz1","nested":{"x":null}}',
    );
  });

  it('always writes null array items', () => {
    expect(toFastjson([null, undefined, 1])).toBe('[null,null,1]');
  });

  it('writes integers as longs and other numbers as Java doubles', () => {
    expect(toFastjson({ a: 1727000000000, b: 81.4, c: -2.5, d: 0, e: javaDouble(885), f: 4 })).toBe(
      '{"a":1727000000000,"b":81.4,"c":-2.5,"d":0,"e":885.0,"f":4}',
    );
    expect(toFastjson(12345678901234567890n)).toBe('12345678901234567890');
  });

  it('writes dates as epoch milliseconds and booleans as literals', () => {
    expect(toFastjson({ changeTime: new Date(1727000000500), ok: true, no: false })).toBe(
      '{"changeTime":1727000000500,"no":false,"ok":true}',
    );
  });

  it('escapes strings as fastjson does', () => {
    expect(toFastjson('a"b\\c/d')).toBe('"a\\"b\\\\c/d"');
    expect(toFastjson('\b\t\n\f\r')).toBe('"\\b\\t\\n\\f\\r"');
    expect(toFastjson('\u0001\u000b\u001f\u007f\u009f')).toBe('"\\u0001\\u000B\\u001F\\u007F\\u009F"');
    expect(toFastjson('\u2028 é 中')).toBe('"\\u2028 é 中"');
  });

  it('refuses values JSON cannot carry', () => {
    expect(() => toFastjson({ f: () => 1 })).toThrow(TypeError);
  });
});

describe('javaDoubleToString', () => {
  it.each([
    [81.4, '81.4'],
    [885, '885.0'],
    [0.001, '0.001'],
    [0.0001, '1.0E-4'],
    [0.00012345, '1.2345E-4'],
    [9999999.5, '9999999.5'],
    [1e7, '1.0E7'],
    [12345678.9, '1.23456789E7'],
    [-18.6, '-18.6'],
    [0, '0.0'],
    [-0, '-0.0'],
    [1e21, '1.0E21'],
    [Number.NaN, 'null'],
    [Number.POSITIVE_INFINITY, 'null'],
  ])('%d → %s', (value, text) => {
    expect(javaDoubleToString(value)).toBe(text);
  });
});
