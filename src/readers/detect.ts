/**
 * Cheap content checks that pick a reader, kept apart from the readers themselves so that
 * detection never loads a decoder it does not need.
 */

/** Wire type each profile.proto Profile field may use (13, comment, may be packed or not). */
const PROFILE_WIRE: Record<number, number[]> = {
  1: [2],
  2: [2],
  3: [2],
  4: [2],
  5: [2],
  6: [2],
  7: [0],
  8: [0],
  9: [0],
  10: [0],
  11: [2],
  12: [0],
  13: [0, 2],
  14: [0],
  15: [0],
};

/**
 * Cheap check on the first bytes: they must read as a run of valid Profile fields (Go writes
 * period_type, period, then sample_type...). Text fails at once: 'g' is field 12 with wire
 * type 7, which does not exist.
 */
export function looksLikeProto(head: Buffer): boolean {
  // Blank lines and log lines also parse as a few valid fields ('\n' is field 1, wire type 2);
  // but a profile's first fields hold small varints (the tag 0x08 of sample_type.type), which
  // text never has.
  if (isText(head, 256)) return false;
  let i = 0;
  let fields = 0;
  const varint = (): number | undefined => {
    let v = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (i >= head.length) return undefined;
      const b = head[i++]!;
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
    }
    return undefined;
  };
  while (fields < 4 && i < head.length) {
    const tag = varint();
    if (tag === undefined) return false;
    const wt = tag & 7;
    if (!PROFILE_WIRE[Math.floor(tag / 8)]?.includes(wt)) return false;
    if (wt === 0) {
      if (varint() === undefined) return false;
    } else {
      const len = varint();
      if (len === undefined) return false;
      i += len;
    }
    fields++;
  }
  return fields >= 2 || (fields >= 1 && i === head.length);
}

/** The first `n` bytes hold only what text holds: tab, CR, LF, printable ASCII, UTF-8 bytes. */
function isText(head: Buffer, n: number): boolean {
  const end = Math.min(head.length, n);
  for (let i = 0; i < end; i++) {
    const b = head[i]!;
    if (b < 32 && b !== 9 && b !== 10 && b !== 13) return false;
  }
  return true;
}
