/**
 * Hands `sink` every line of a byte stream, without ever holding more than one chunk
 * and one partial line as text: a multi-gigabyte dump never becomes one JavaScript string.
 * Line ends may be LF or CRLF; the CR is dropped.
 *
 * Bytes are decoded as latin1: one byte, one character. That is a plain copy (UTF-8 decoding
 * costs a third of the parse) and never splits a multi-byte character across chunks. Go dumps
 * are ASCII but for file paths and label values; readers turn the strings they keep back into
 * proper UTF-8 with `fromLatin1` (model/intern.ts `detach` does).
 */
interface LineSink {
  line(line: string): void;
}

export async function forEachLine(chunks: AsyncIterable<Buffer>, sink: LineSink): Promise<void> {
  let carry = '';
  for await (const chunk of chunks) {
    const text = carry + chunk.toString('latin1');
    let start = 0;
    let nl = text.indexOf('\n', start);
    while (nl >= 0) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      sink.line(text.slice(start, end));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    // Copy the tail so the big chunk string can be collected.
    carry = start === 0 ? text : text.slice(start);
    if (carry.length > MAX_LINE) {
      sink.line(carry.slice(0, MAX_LINE));
      carry = '';
    }
  }
  if (carry.length > 0) sink.line(carry.endsWith('\r') ? carry.slice(0, -1) : carry);
}

/**
 * No line Go writes in a dump comes near this; past it the input is not a dump (or a binary
 * blob), and keeping it whole would let one line eat the memory.
 */
const MAX_LINE = 1 << 20;
