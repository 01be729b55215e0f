import calculateSlot from 'cluster-key-slot';

/** Number of hash slots of a Redis Cluster. */
export const REDIS_CLUSTER_SLOTS = 16384;

/**
 * The Cluster slot of a key, as Redis computes it (`CLUSTER KEYSLOT`: CRC16 of the first non-empty `{hash tag}`,
 * else of the whole key). Computed by `cluster-key-slot`, the package ioredis routes Cluster commands with, so the
 * bucket tags chosen here land exactly where the client sends them.
 */
export function keySlot(key: string): number {
  return calculateSlot(key);
}

/** True when a key prefix contains a non-empty `{hash tag}`, i.e. every key under it lands in one slot. */
export function hasHashTag(prefix: string): boolean {
  return /\{[^}]+\}/.test(prefix);
}
