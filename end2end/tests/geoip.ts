// Public addresses that the installed country database knows, read from the file
// itself (the set-up installs it; geoip.database defaults to it): the tests never
// guess which country an address is in.
import * as fs from 'node:fs';
import { Reader } from 'mmdb-lib';

const FILE = new URL(
  '../../scripts/geoip/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb',
  import.meta.url,
);

// The English short names (ISO 3166) of the countries the tests look for, as the
// server writes them.
export const COUNTRY_NAMES: Record<string, string> = {
  JP: 'Japan',
  DE: 'Germany',
  FR: 'France',
  BR: 'Brazil',
  CA: 'Canada',
  AU: 'Australia',
};

/** One IPv4 address inside a network of each wanted country, in the tree's order. */
export function addressesIn(wanted: string[]): Record<string, string> {
  const buf = fs.readFileSync(FILE);
  const reader = new Reader<{ country_code?: string }>(buf);
  const { nodeCount, recordSize, ipVersion } = reader.metadata;
  if (recordSize !== 24) throw new Error(`record size ${recordSize} not handled`);
  const record = (node: number, bit: number) => {
    const o = node * 6 + bit * 3;
    return (buf[o] << 16) | (buf[o + 1] << 8) | buf[o + 2];
  };
  // IPv4 lives under ::/96 in a database that holds both.
  let start = 0;
  if (ipVersion === 6) for (let i = 0; i < 96 && start < nodeCount; i++) start = record(start, 0);
  const found: Record<string, string> = {};
  const stack: Array<[number, number, number]> = [[start, 0, 0]];
  while (stack.length && Object.keys(found).length < wanted.length) {
    const [node, depth, prefix] = stack.pop()!;
    for (const bit of [1, 0]) {
      const next = record(node, bit);
      const bits = (prefix * 2 + bit) >>> 0;
      if (next === nodeCount) continue;
      if (next < nodeCount) {
        if (depth + 1 < 32) stack.push([next, depth + 1, bits]);
        continue;
      }
      const network = (bits * 2 ** (32 - depth - 1)) >>> 0;
      const ip = [24, 16, 8, 0].map((s) => ((network + 1) >>> s) & 255).join('.');
      const cc = reader.get(ip)?.country_code;
      if (cc && wanted.includes(cc) && !found[cc]) found[cc] = ip;
    }
  }
  for (const cc of wanted) if (!found[cc]) throw new Error(`no ${cc} network in ${FILE.pathname}`);
  return found;
}
