/** Number of hash slots of a Redis Cluster. */
export const REDIS_CLUSTER_SLOTS = 16384;

/** CRC16/XMODEM lookup table (polynomial 0x1021), the checksum Redis Cluster hashes keys with. */
const CRC16_TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/** CRC16/XMODEM of a string's UTF-8 bytes. */
export function crc16(value: string): number {
  let crc = 0;
  for (const byte of Buffer.from(value, 'utf8')) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff];
  return crc;
}

/**
 * The Cluster slot of a key, as Redis computes it (`CLUSTER KEYSLOT`): only the part inside the first `{…}` is
 * hashed when that part is non-empty, so keys sharing a hash tag share a slot.
 */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(key.slice(open + 1, close)) % REDIS_CLUSTER_SLOTS;
  }
  return crc16(key) % REDIS_CLUSTER_SLOTS;
}

/** True when a key prefix contains a non-empty `{hash tag}`, i.e. every key under it lands in one slot. */
export function hasHashTag(prefix: string): boolean {
  return /\{[^}]+\}/.test(prefix);
}
