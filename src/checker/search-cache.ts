/**
 * The memo of the linearization search (Lowe, "Testing for linearizability", 2017): the set of
 * (linearized steps, register value) configurations already explored. A configuration seen once
 * needs no second visit, because what can follow depends on nothing else.
 */

/** A set of step ids with a hash that is kept up to date in O(1) per change. */
export class Bitset {
  /** Bit `id & 31` of word `id >>> 5` is set when `id` is a member. */
  readonly words: Uint32Array;
  /** XOR of idHash over the members: order-independent, so set and clear just toggle it. */
  hash = 0;

  constructor(size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32));
  }

  /** Adds `id`, which must be absent. */
  add(id: number): void {
    this.words[id >>> 5]! |= 1 << (id & 31);
    this.hash ^= idHash(id);
  }

  /** Removes `id`, which must be present. */
  remove(id: number): void {
    this.words[id >>> 5]! &= ~(1 << (id & 31));
    this.hash ^= idHash(id);
  }
}

interface Configuration {
  finite: Uint32Array;
  info: Uint32Array;
  state: number;
}

/** How many configurations with the same finite steps and value are kept for the subset check. */
const coveringMax = 8;

/**
 * Configurations already explored. A configuration is new unless it was explored exactly, or an
 * explored one has the same finite steps and value and a subset of its info steps: info steps never
 * block anything, so whatever follows the larger set also follows the smaller one, with the extra
 * info steps moved to the end. The subset check looks at a bounded number of recent configurations
 * per (finite steps, value), which loses some pruning but keeps every check cheap.
 */
export class ConfigurationCache {
  /** Every explored configuration, by hash of all of it. */
  readonly #exact = new Map<number, Configuration[]>();
  /** The most recent few configurations per hash of (finite steps, value). */
  readonly #covering = new Map<number, Configuration[]>();

  /** Adds the configuration and returns true, or returns false when an explored one covers it. */
  addIfNew(finite: Bitset, info: Bitset, state: number): boolean {
    const finiteHash = (finite.hash ^ idHash(state + 0x40000000)) | 0;
    const covering = this.#covering.get(finiteHash);
    if (covering !== undefined) {
      for (const configuration of covering) {
        if (configuration.state === state && equalWords(configuration.finite, finite.words) && isSubset(configuration.info, info.words)) {
          return false;
        }
      }
    }
    const exactHash = (finiteHash ^ Math.imul(info.hash, 0x27d4eb2d)) | 0;
    const exact = this.#exact.get(exactHash);
    if (exact !== undefined) {
      for (const configuration of exact) {
        if (configuration.state === state && equalWords(configuration.finite, finite.words) && equalWords(configuration.info, info.words)) {
          return false;
        }
      }
    }
    const configuration: Configuration = { finite: finite.words.slice(), info: info.words.slice(), state };
    if (exact === undefined) this.#exact.set(exactHash, [configuration]);
    else exact.push(configuration);
    if (covering === undefined) this.#covering.set(finiteHash, [configuration]);
    else {
      if (covering.length === coveringMax) covering.shift();
      covering.push(configuration);
    }
    return true;
  }
}

/** A well-mixed 32-bit hash of a small integer (the murmur3 finalizer). */
function idHash(id: number): number {
  let z = Math.imul(id ^ 0x5bd1e995, 0x9e3779b1);
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) | 0;
}

function equalWords(left: Uint32Array, right: Uint32Array): boolean {
  for (let index = 0; index < left.length; index++) {
    if (left[index] !== right[index]) return false;
  }
  return true;
}

function isSubset(smaller: Uint32Array, larger: Uint32Array): boolean {
  for (let index = 0; index < smaller.length; index++) {
    if ((smaller[index]! & ~larger[index]!) !== 0) return false;
  }
  return true;
}
